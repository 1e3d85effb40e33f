//go:build !windows

package arcserve

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// openOutput opens the agent's output file for reading and writing: never
// through a symbolic link, never a FIFO or device, never a file with a
// second name or another owner; a missing one is created exclusively.
func openOutput(path string) (*os.File, error) {
	const flags = os.O_RDWR | syscall.O_NOFOLLOW | syscall.O_NONBLOCK | syscall.O_NOCTTY
	f, err := os.OpenFile(path, flags, 0)
	if errors.Is(err, fs.ErrNotExist) {
		f, err = os.OpenFile(path, flags|os.O_CREATE|os.O_EXCL, 0o600)
	}
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s is a symbolic link: refused", path)
	}
	if err != nil {
		return nil, err
	}
	if err := checkOutput(f, path); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func checkOutput(f *os.File, path string) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	switch {
	case !st.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file (%s): refused", path, st.Mode().Type())
	case ok && sys.Nlink != 1:
		return fmt.Errorf("%s has %d names (a hard link): refused", path, sys.Nlink)
	case ok && int(sys.Uid) != os.Geteuid():
		return fmt.Errorf("%s belongs to uid %d, not to quiesce's uid %d: refused", path, sys.Uid, os.Geteuid())
	}
	return nil
}
