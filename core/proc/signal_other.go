//go:build !linux && !windows

package proc

import (
	"os"
	"syscall"
)

// Signal terminates p where POSIX signals are not available: any signal
// ends the process (TerminateProcess on Windows).
func Signal(p Proc, _ syscall.Signal) error {
	if !Alive(p) {
		return nil
	}
	h, err := os.FindProcess(int(p.PID))
	if err != nil {
		return nil
	}
	return h.Kill()
}
