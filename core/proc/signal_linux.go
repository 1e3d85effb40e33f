package proc

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// Signal sends sig to p through a pidfd, so the signal can never reach a
// process that reused p's PID. A process that is already gone is not an
// error.
func Signal(p Proc, sig syscall.Signal) error {
	fd, err := openPidfd(p)
	if errors.Is(err, unix.ENOSYS) {
		return signalByPID(p, sig)
	}
	if err != nil {
		return err
	}
	if fd < 0 {
		return nil
	}
	defer unix.Close(fd)
	err = unix.PidfdSendSignal(fd, sig, nil, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	return err
}

// signalByPID is the fallback for kernels without pidfds: check the start
// time, then signal by PID (a narrow window remains).
func signalByPID(p Proc, sig syscall.Signal) error {
	if !Alive(p) {
		return nil
	}
	err := syscall.Kill(int(p.PID), sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}
