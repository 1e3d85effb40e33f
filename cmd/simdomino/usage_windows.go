package main

// toolUsage is simdomino's help on Windows: the server is a Windows service
// and every kill is TerminateProcess (the demo and Domino Backup's snapshot
// mode run on Linux only).
const toolUsage = `usage:
  simdomino install --root DIR --service NAME [--port N] [--tasks LIST]
                    [--shutdown-seconds S] [--start-seconds S] [--shutdown-timeout S]
                    (registers NAME, a Windows service that runs the server)
  simdomino uninstall --root DIR        (stops and deletes the service)
  simdomino verify DIR [--delta DELTADIR]

Faults are staged in DIR\Domino\Data\notes.ini (the shutdown faults
also on a running server: tasks read them again when asked to quit):
  SimShutdownSeconds=S  a clean shutdown takes S seconds
  SimStartSeconds=S     the server is ready S seconds after start
  SimHangTask=NAME      that task ignores the shutdown request (stays until TerminateProcess)
  SimFailStart=1        the server exits during start-up
  SimNoListen=1         the server never opens its NRPC port
  SimNsdFail=1          nsd -kill fails without killing anything
`
