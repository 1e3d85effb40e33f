//go:build !windows

package main

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// openAppend opens path for appending, creating it (0600) when missing:
// never through a symbolic link, never a FIFO or device, never a file of
// another user or with a second name (a hard link).
func openAppend(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0o600)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s is a symbolic link: not following it", path)
	}
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil {
		sys, _ := st.Sys().(*syscall.Stat_t)
		switch {
		case !st.Mode().IsRegular():
			err = fmt.Errorf("%s is not a regular file (%s)", path, st.Mode().Type())
		case sys != nil && sys.Nlink != 1:
			err = fmt.Errorf("%s has %d names (a hard link): not appending to it", path, sys.Nlink)
		case sys != nil && int(sys.Uid) != os.Geteuid():
			err = fmt.Errorf("%s belongs to uid %d, not to quiesce's uid %d: not appending to it", path, sys.Uid, os.Geteuid())
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
