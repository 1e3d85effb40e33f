@echo off
rem quiesce: install quiesce.exe into "%ProgramFiles%\quiesce" (run as an administrator).
rem It copies files and nothing else: no service, no hook and no scheduled task is
rem created, and Domino is not touched. Run it again to upgrade: an existing
rem %ProgramData%\quiesce\quiesce.conf is kept.
setlocal
set "SRC=%~dp0"
set "DEST=%ProgramFiles%\quiesce"
set "CONF=%ProgramData%\quiesce"
if not exist "%DEST%" mkdir "%DEST%" || goto fail
for %%d in (vmware veeam windows) do (
  if not exist "%DEST%\%%d" mkdir "%DEST%\%%d" || goto fail
  copy /Y "%SRC%%%d\*" "%DEST%\%%d\" >nul || goto fail
)
copy /Y "%SRC%quiesce.exe" "%DEST%\quiesce.exe" >nul || goto fail
copy /Y "%SRC%quiesce.conf.example" "%DEST%\quiesce.conf.example" >nul || goto fail
if not exist "%CONF%" mkdir "%CONF%" || goto fail
if exist "%CONF%\quiesce.conf" (
  echo quiesce: kept the existing %CONF%\quiesce.conf
) else (
  copy "%SRC%quiesce.conf.example" "%CONF%\quiesce.conf" >nul || goto fail
  echo quiesce: wrote %CONF%\quiesce.conf from the example: edit it for this server
)
"%DEST%\quiesce.exe" version || goto fail
echo quiesce: installed in %DEST%. Next: "%DEST%\quiesce.exe" check, then
echo   "%DEST%\quiesce.exe" install vmware   or   install veeam   (see docs\windows.md),
echo   and for boot recovery "%DEST%\windows\install-recover-task.cmd".
exit /b 0
:fail
echo quiesce: installation into %DEST% failed 1>&2
exit /b 1
