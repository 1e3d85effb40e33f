//go:build !windows

package domino

import "syscall"

// killSignals are sent, in order, to what nsd -kill left.
var killSignals = []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL}

// lastKill names the last escalation step, for messages.
const lastKill = "SIGKILL"

// killedOutcome describes a stop that needed killSignals.
const killedOutcome = "killed by signal"

func sigName(sig syscall.Signal) string {
	if sig == syscall.SIGKILL {
		return "sigkill"
	}
	return "sigterm"
}

func sigWhat(sig syscall.Signal) string {
	if sig == syscall.SIGKILL {
		return "SIGKILL"
	}
	return "SIGTERM"
}
