package domino

import "syscall"

// killSignals: on Windows every "signal" is TerminateProcess (proc.Signal),
// so one step ends what nsd.exe -kill left.
var killSignals = []syscall.Signal{syscall.SIGKILL}

// lastKill names the last escalation step, for messages.
const lastKill = "TerminateProcess"

// killedOutcome describes a stop that needed TerminateProcess.
const killedOutcome = "killed by TerminateProcess"

func sigName(syscall.Signal) string { return "terminate" }

func sigWhat(syscall.Signal) string { return "TerminateProcess" }
