@echo off
rem quiesce hook for Nutanix Guest Tools on Windows: installed by quiesce install nutanix.
rem NGT runs pre_freeze.bat from its scripts folder (no arguments) for an
rem application-consistent snapshot. quiesce keeps its own log.
"@QUIESCE@"@OPTIONS@ nutanix freeze %*
exit /b %ERRORLEVEL%
