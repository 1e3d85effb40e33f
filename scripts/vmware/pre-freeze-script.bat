@echo off
rem quiesce: legacy VMware Tools pre-freeze script (C:\Windows\pre-freeze-script.bat).
rem installed by quiesce install vmware --legacy; it replaces the net stop / sleep 300 / pskill recipe.
rem VMware Tools passes the operation word as %1 (freeze) and
rem [vmbackup] scriptArg, when set, as %2. Run by hand without arguments, it
rem does what its name says.
if "%~1"=="" (
  "@QUIESCE@"@OPTIONS@ vmware freeze
) else (
  "@QUIESCE@"@OPTIONS@ vmware %1 %2
)
exit /b %ERRORLEVEL%
