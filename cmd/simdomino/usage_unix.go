//go:build !windows

package main

// toolUsage is simdomino's help on Linux.
const toolUsage = `usage:
  simdomino install --root DIR [--user NAME] [--port N] [--tasks LIST]
                    [--shutdown-seconds S] [--start-seconds S] [--shutdown-timeout S]
                    [--backup [--quiesce PATH] [--delta-dir DIR]]   (Domino Backup snapshot mode)
  simdomino uninstall --root DIR
  simdomino verify DIR [--delta DELTADIR]
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
snapshot configuration into dominobackup.nsf; "server -c 'load backup -s'"):
  SimBackupFailLoad=1   the backup task fails to load
  SimBackupFailDB=DB    that database (path relative to the data directory)
                        cannot enter backup mode: the backup fails
  SimBackupSnapshotTimeout=S  Domino's limit for the snapshot command (120)
  SimBackupMsPerDB=MS   time to put one database into / out of backup mode (20)
`
