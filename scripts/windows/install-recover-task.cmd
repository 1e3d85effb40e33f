@echo off
rem quiesce: register the start-up recovery task (run as an administrator).
schtasks /Create /F /TN "quiesce recover" /XML "%~dp0quiesce-recover.xml"
exit /b %ERRORLEVEL%
