package proc

import (
	"context"
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// waitEvents waits on one pidfd per process. ok is false when pidfds are not
// available (kernel before 5.3, seccomp), so the caller falls back to polling.
func waitEvents(ctx context.Context, procs []Proc, deadline time.Time) (left []Proc, ok bool) {
	fds := make([]unix.PollFd, 0, len(procs))
	owners := make([]Proc, 0, len(procs))
	defer func() {
		for _, f := range fds {
			unix.Close(int(f.Fd))
		}
	}()
	for _, p := range procs {
		fd, err := openPidfd(p)
		if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
			return nil, false
		}
		if err != nil || fd < 0 {
			continue // gone already
		}
		fds = append(fds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
		owners = append(owners, p)
	}
	for len(fds) > 0 {
		remaining := time.Until(deadline)
		if remaining <= 0 || ctx.Err() != nil {
			break
		}
		n, err := unix.Poll(fds, int(min(remaining, maxBlock).Milliseconds())+1)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return nil, false
		}
		if n > 0 {
			fds, owners = dropExited(fds, owners)
		}
	}
	return owners, true
}

// dropExited removes the entries whose pidfd reported an exit.
func dropExited(fds []unix.PollFd, owners []Proc) ([]unix.PollFd, []Proc) {
	keepFds, keepOwners := fds[:0], owners[:0]
	for i, f := range fds {
		if f.Revents != 0 {
			unix.Close(int(f.Fd))
			continue
		}
		keepFds = append(keepFds, f)
		keepOwners = append(keepOwners, owners[i])
	}
	return keepFds, keepOwners
}

// openPidfd opens a pidfd for p and checks, after opening, that the PID
// still belongs to the same process. fd is -1 when the process is gone.
func openPidfd(p Proc) (int, error) {
	fd, err := unix.PidfdOpen(int(p.PID), 0)
	if errors.Is(err, unix.ESRCH) {
		return -1, nil
	}
	if err != nil {
		return -1, err
	}
	if !Alive(p) {
		unix.Close(fd)
		return -1, nil
	}
	return fd, nil
}
