@echo off
rem Veeam Backup & Replication pre-freeze script for Windows guests (upload it in the
rem job: Guest Processing > Applications > Scripts). installed by quiesce install veeam.
"@QUIESCE@"@OPTIONS@ veeam pre-freeze %*
exit /b %ERRORLEVEL%
