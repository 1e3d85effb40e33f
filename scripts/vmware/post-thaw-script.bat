@echo off
rem quiesce: legacy VMware Tools post-thaw script (C:\Windows\post-thaw-script.bat).
rem installed by quiesce install vmware --legacy.
rem VMware Tools passes the operation word as %1 (thaw, freezeFail) and
rem [vmbackup] scriptArg, when set, as %2. Run by hand without arguments, it
rem does what its name says.
if "%~1"=="" (
  "@QUIESCE@"@OPTIONS@ vmware thaw
) else (
  "@QUIESCE@"@OPTIONS@ vmware %1 %2
)
exit /b %ERRORLEVEL%
