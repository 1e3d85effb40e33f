@echo off
rem quiesce hook for VMware Tools on Windows: installed by quiesce install vmware.
rem Copy to "C:\Program Files\VMware\VMware Tools\backupScripts.d\50-quiesce.cmd".
rem VMware Tools runs it with freeze, freezeFail or thaw.
"@QUIESCE@"@OPTIONS@ vmware %*
exit /b %ERRORLEVEL%
