package runas

import (
	"fmt"
	"io/fs"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Files runs fn with the file-system identity of a: the kernel checks
// every file fn opens, creates, removes or renames as if a did it, and
// what fn creates belongs to a. quiesce runs as root inside directories
// the application's user owns (its data directory): there a planted
// symbolic or hard link reaches only what that user could reach already.
//
// fn runs on an OS thread of its own whose file-system user and groups
// are a's (setfsuid, setfsgid, setgroups: per-thread on Linux, and the
// kernel drops the thread's file capabilities with fsuid 0). The thread
// is never handed back to the Go runtime: it ends with fn, credentials and
// all. Run as any user but root, fn runs as it is (it cannot reach more
// than that user anyway).
func Files(a Account, fn func() error) error {
	if os.Geteuid() != 0 || a.UID == 0 {
		return fn()
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with this goroutine
		if err := become(a); err != nil {
			done <- err
			return
		}
		done <- fn()
	}()
	return <-done
}

// become gives the calling thread a's file-system identity.
func become(a Account) error {
	groups := a.Groups
	if len(groups) == 0 {
		groups = []int{a.GID}
	}
	if err := unix.Setgroups(groups); err != nil {
		return fmt.Errorf("acting as %s: setgroups: %w", a.Name, err)
	}
	unix.SetfsgidRetGid(a.GID)
	unix.SetfsuidRetUid(a.UID)
	// setfsuid and setfsgid report failure only by not changing: ask again.
	gid, _ := unix.SetfsgidRetGid(-1)
	uid, _ := unix.SetfsuidRetUid(-1)
	if uid != a.UID || gid != a.GID {
		return fmt.Errorf("acting as %s: file-system identity is uid %d gid %d, not %d %d: %w", a.Name, uid, gid, a.UID, a.GID, ErrPermission)
	}
	return nil
}

// openRegular opens path without blocking on a FIFO (O_NONBLOCK, cleared
// once the file is known to be regular) and refuses any other kind.
func openRegular(path string, flag int, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|unix.O_NONBLOCK|unix.O_NOCTTY, perm)
	if err != nil {
		return nil, err
	}
	if err := checkRegular(f, path); err != nil {
		f.Close()
		return nil, err
	}
	blocking(f)
	return f, nil
}

// openInput opens path for reading without blocking on a FIFO, and
// refuses a directory.
func openInput(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || st.IsDir() {
		f.Close()
		if err == nil {
			err = fmt.Errorf("%s: is a directory", path)
		}
		return nil, err
	}
	blocking(f)
	return f, nil
}

// blocking clears O_NONBLOCK: the file is handed on as it would have been
// opened.
func blocking(f *os.File) {
	fd := f.Fd()
	if fl, err := unix.FcntlInt(fd, unix.F_GETFL, 0); err == nil {
		_, _ = unix.FcntlInt(fd, unix.F_SETFL, fl&^unix.O_NONBLOCK)
	}
}
