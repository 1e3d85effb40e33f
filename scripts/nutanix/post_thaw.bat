@echo off
rem quiesce hook for Nutanix Guest Tools on Windows: installed by quiesce install nutanix.
rem NGT runs post_thaw.bat from its scripts folder (no arguments) for an
rem application-consistent snapshot. quiesce keeps its own log.
"@QUIESCE@"@OPTIONS@ nutanix thaw %*
exit /b %ERRORLEVEL%
