package runas

import (
	"os"
	"strconv"
	"syscall"
)

// CloseInheritedOnExec marks every descriptor of this process from 3 up
// as close-on-exec: one inherited from the caller (a pipe a backup agent
// reads to its end) must not live on in a process started detached (the
// watchdog, a database lock's holder) that outlives the caller's command.
// quiesce's own descriptors are close-on-exec already; what a child needs
// is passed explicitly (exec.Cmd.ExtraFiles).
func CloseInheritedOnExec() {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}
