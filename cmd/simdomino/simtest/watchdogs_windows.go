package simtest

import (
	"slices"
	"strings"

	"github.com/shirou/gopsutil/v3/process"
)

// Watchdogs returns the PIDs of the quiesce watchdogs guarding stateDir:
// quiesce.exe processes whose command line names "watchdog" and it.
func Watchdogs(stateDir string) []int {
	var pids []int
	ps, _ := process.Processes()
	for _, p := range ps {
		name, err := p.Name()
		if err != nil || !strings.EqualFold(name, "quiesce.exe") {
			continue
		}
		args, err := p.CmdlineSlice()
		if err == nil && slices.Contains(args, "watchdog") && slices.ContainsFunc(args, func(a string) bool { return strings.EqualFold(a, stateDir) }) {
			pids = append(pids, int(p.Pid))
		}
	}
	return pids
}

// KillWatchdogs ends the watchdogs guarding stateDir at once
// (TerminateProcess): a test's end, or a simulated crash of the guest.
func KillWatchdogs(stateDir string) {
	for _, pid := range Watchdogs(stateDir) {
		if p, err := process.NewProcess(int32(pid)); err == nil {
			_ = p.Kill()
		}
	}
}
