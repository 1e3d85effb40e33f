@echo off
rem Veeam Backup & Replication post-thaw script for Windows guests (upload it in the
rem job: Guest Processing > Applications > Scripts). installed by quiesce install veeam.
"@QUIESCE@"@OPTIONS@ veeam post-thaw %*
exit /b %ERRORLEVEL%
