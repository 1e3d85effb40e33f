package proc

import (
	"errors"
	"syscall"

	"golang.org/x/sys/windows"
)

// Signal terminates p (TerminateProcess: Windows has no signals; any sig
// ends the process). The handle is checked to be p before it is used, so a
// process that reused p's PID is never hit. A process already gone is not
// an error.
func Signal(p Proc, _ syscall.Signal) error {
	h, err := openSame(p, windows.PROCESS_TERMINATE|windows.SYNCHRONIZE)
	if err != nil {
		return nil // gone, or another process now
	}
	defer windows.CloseHandle(h)
	if ev, err := windows.WaitForSingleObject(h, 0); err == nil && ev == windows.WAIT_OBJECT_0 {
		return nil // exited already
	}
	err = windows.TerminateProcess(h, 1)
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) {
		// Access is denied to a process that is exiting, too.
		if ev, werr := windows.WaitForSingleObject(h, 0); werr == nil && ev == windows.WAIT_OBJECT_0 {
			return nil
		}
	}
	return err
}
