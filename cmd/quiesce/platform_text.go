package main

import (
	"runtime"
	"strings"
)

// What the help and check say about defaults, stops and kills, as it is
// on the platform quiesce runs on: Windows has no rc_domino_config, no
// /var, and no signals (a kill is TerminateProcess).

func onWindows() bool { return runtime.GOOS == "windows" }

// configUsage is --config's help; defaults are the files tried.
func configUsage(defaults []string) string {
	if onWindows() {
		return "the configuration `FILE`, a quiesce.conf (default: " + strings.Join(defaults, ", ") + ")"
	}
	return "the configuration `FILE`: quiesce.conf or rc_domino_config (default: first of " + strings.Join(defaults, ", ") + ")"
}

// stateDirUsage is --state-dir's help (engine.go's stateDir decides).
func stateDirUsage() string {
	if onWindows() {
		return "freeze state `DIR` (default: %ProgramData%\\quiesce)"
	}
	return "freeze state `DIR` (default: /var/lib/quiesce as root, else $XDG_STATE_HOME/quiesce or ~/.local/state/quiesce)"
}

// logFileUsage is --log-file's help (logging.go's defaultLogFile decides).
func logFileUsage() string {
	if onWindows() {
		return "JSON log `FILE` (default: %ProgramData%\\quiesce\\quiesce.log)"
	}
	return "JSON log `FILE` (default: /var/log/quiesce/quiesce.log as root, else quiesce.log in the data directory)"
}

// stopUsage is stop's help: how a stop escalates.
func stopUsage() string {
	if onWindows() {
		return "stop the server (graceful, then nsd -kill, then TerminateProcess)"
	}
	return "stop the server (graceful, then nsd -kill, then signals)"
}

// checkUsage is check's help.
func checkUsage() string {
	if onWindows() {
		return "check the configuration, and whether freeze and thaw fit each caller's time limits"
	}
	return "check the configuration, whether freeze and thaw fit each caller's time limits, and where qemu-ga runs its hook"
}

// killWaits names the waits of the escalation after the graceful one.
func killWaits() string {
	if onWindows() {
		return "nsd -kill and TerminateProcess waits"
	}
	return "nsd -kill, SIGTERM and SIGKILL waits"
}
