package simtest

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// Watchdogs returns the PIDs of the quiesce watchdogs guarding stateDir:
// processes with "watchdog" and stateDir among their arguments.
func Watchdogs(stateDir string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		args := strings.Split(string(b), "\x00")
		if err == nil && slices.Contains(args, stateDir) && slices.Contains(args, "watchdog") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// KillWatchdogs SIGKILLs the watchdogs guarding stateDir: a test's end
// (its state directory is removed next, and a watchdog that finds none
// retries for good), or a simulated crash of the guest.
func KillWatchdogs(stateDir string) {
	for _, pid := range Watchdogs(stateDir) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}
