@echo off
rem quiesce: legacy VMware Tools pre-freeze script (C:\Windows\pre-freeze-script.bat).
rem installed by quiesce install vmware --legacy; replaces the net stop / sleep 300 / pskill recipe.
"@QUIESCE@"@OPTIONS@ vmware freeze %1
exit /b %ERRORLEVEL%
