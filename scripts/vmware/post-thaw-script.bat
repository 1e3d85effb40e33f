@echo off
rem quiesce: legacy VMware Tools post-thaw script (C:\Windows\post-thaw-script.bat).
rem installed by quiesce install vmware --legacy.
"@QUIESCE@"@OPTIONS@ vmware thaw %1
exit /b %ERRORLEVEL%
