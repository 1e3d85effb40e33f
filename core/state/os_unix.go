//go:build !windows

package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

func openNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW, perm)
	if errors.Is(err, syscall.ELOOP) {
		return nil, errors.Join(ErrUnsafe, errors.New(path+" is a symlink"))
	}
	return f, err
}

func tryLock(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

func unlock(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// checkPerm refuses a state directory others can write to.
func checkPerm(dir string, st fs.FileInfo) error {
	if st.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("state directory %s is writable by group or others (mode %04o; fix: chmod 0700 %s): %w", dir, st.Mode().Perm(), dir, ErrUnsafe)
	}
	return nil
}

// readOnly reports whether err says the file system is read-only.
func readOnly(err error) bool { return errors.Is(err, syscall.EROFS) }
