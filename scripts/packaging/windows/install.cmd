@echo off
rem quiesce: install quiesce.exe into "%ProgramFiles%\quiesce" (run as an administrator).
rem It copies files and protects %ProgramData%\quiesce (below); no service, no hook
rem and no scheduled task is created, and Domino is not touched. Run it again to upgrade: an existing
rem %ProgramData%\quiesce\quiesce.conf is kept.
setlocal
set "SRC=%~dp0"
set "DEST=%ProgramFiles%\quiesce"
set "CONF=%ProgramData%\quiesce"
for %%d in ("%DEST%" "%DEST%\vmware" "%DEST%\veeam" "%DEST%\windows" "%CONF%") do (
  if not exist "%%~d" mkdir "%%~d"
  if not exist "%%~d" goto fail
)
rem The configuration, state and log folder: SYSTEM and Administrators full
rem control, Users read, not ProgramData's inherited rights (every user may
rem create files there, and quiesce runs as SYSTEM). By SID: any language.
icacls "%CONF%" /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F *S-1-5-32-545:(OI)(CI)RX >nul
if errorlevel 1 goto fail
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
