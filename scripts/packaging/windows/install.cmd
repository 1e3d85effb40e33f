@echo off
rem quiesce: install quiesce.exe into "%ProgramFiles%\quiesce" (run as an administrator).
rem It copies files and nothing else: no service, no hook and no scheduled task is
rem created, and Domino is not touched. Run it again to upgrade: an existing
rem %ProgramData%\quiesce\quiesce.conf is kept.
setlocal
set "SRC=%~dp0"
set "DEST=%ProgramFiles%\quiesce"
set "CONF=%ProgramData%\quiesce"
for %%d in ("%DEST%" "%DEST%\vmware" "%DEST%\veeam" "%DEST%\windows" "%CONF%") do (
  if not exist "%%~d" mkdir "%%~d"
  if not exist "%%~d" goto fail
)
for %%d in (vmware veeam windows) do (
  copy /Y "%SRC%%%d\*" "%DEST%\%%d\" >nul
  if errorlevel 1 goto fail
)
copy /Y "%SRC%quiesce.exe" "%DEST%\quiesce.exe" >nul
if errorlevel 1 goto fail
copy /Y "%SRC%quiesce.conf.example" "%DEST%\quiesce.conf.example" >nul
if errorlevel 1 goto fail
if exist "%CONF%\quiesce.conf" (
  echo quiesce: kept the existing %CONF%\quiesce.conf
) else (
  copy "%SRC%quiesce.conf.example" "%CONF%\quiesce.conf" >nul
  if errorlevel 1 goto fail
  echo quiesce: wrote %CONF%\quiesce.conf from the example: edit it for this server
)
"%DEST%\quiesce.exe" version
if errorlevel 1 goto fail
echo quiesce: installed in %DEST%. Next: "%DEST%\quiesce.exe" check, then
echo   "%DEST%\quiesce.exe" install vmware   or   install veeam   (see docs\windows.md in the zip),
echo   and for boot recovery "%DEST%\windows\install-recover-task.cmd".
exit /b 0
:fail
echo quiesce: installation into %DEST% failed 1>&2
exit /b 1
