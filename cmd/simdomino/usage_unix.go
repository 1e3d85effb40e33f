//go:build !windows

package main

// toolUsage is simdomino's help on Linux.
const toolUsage = `usage:
  simdomino install --root DIR [--user NAME] [--port N] [--tasks LIST]
                    [--shutdown-seconds S] [--start-seconds S] [--shutdown-timeout S]
                    [--backup [--quiesce PATH] [--delta-dir DIR]
                     [--backup-order start|snapshot] [--restore-options OPTS]]
                                                    (Domino Backup snapshot mode)
  simdomino uninstall --root DIR
  simdomino verify DIR [--delta DELTADIR]
  simdomino restore --data DIR --backup ID --db PATH --to PATH [--restore-name dad|plain]
  simdomino demo [--quiesce PATH] [--keep]

Faults are staged in DIR/local/notesdata/notes.ini (the shutdown faults
also on a running server: tasks read them again when asked to quit):
  SimShutdownSeconds=S  a clean shutdown takes S seconds
  SimStartSeconds=S     the server is ready S seconds after start
  SimHangTask=NAME      that task ignores the shutdown request (stays until killed)
  SimIgnoreTerm=NAME    that task also ignores SIGTERM
  SimFailStart=1        the server exits during start-up
  SimNoListen=1         the server never opens its NRPC port
  SimNsdFail=1          nsd -kill fails without killing anything
  SimLaunchDelay=S      bin/server waits S seconds before it becomes the server

Domino Backup (install --backup [--quiesce PATH] [--delta-dir DIR] writes the
snapshot and restore configuration into dominobackup.nsf, quiesce as every
command; "server -c 'load backup -s'"):
  SimBackupOrder=start|snapshot  when backup mode ends (install --backup-order;
                        HCL documents both): "start", when the Snapshot Start
                        Command returns (then the deltas, then the Backup
                        Snapshot Command); "snapshot" (the default), when the
                        Backup Snapshot Command returns (HCL's Veeam scripts)
  SimBackupFailLoad=1   the backup task fails to load
  SimBackupFailDB=DB    that database (path relative to the data directory)
                        cannot enter backup mode: the backup fails
  SimBackupSnapshotTimeout=S  the simulator's limit for each snapshot command
                        (120, HCL's scripts' TIMEOUT; Domino documents none):
                        the command is killed and the backup fails
  SimBackupMsPerDB=MS   time to put one database into / out of backup mode (20)
simdomino restore plays Domino's restore task for one database, as the Domino
user: the Restore Snapshot and Restore Db Commands with HCL's 9 arguments for
the database and its .DELTA, the delta applied, the result checked against the
database when backup mode ended, the Restore Post Command.
`
