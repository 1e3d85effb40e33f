package state

import (
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// openNoFollow refuses a path that is a symlink or junction.
func openNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	if st, err := os.Lstat(path); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return nil, errors.Join(ErrUnsafe, errors.New(path+" is a symlink"))
	}
	return os.OpenFile(path, flag, perm)
}

func tryLock(f *os.File) (bool, error) {
	ol := new(windows.Overlapped)
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return false, nil
	}
	return err == nil, err
}

func unlock(f *os.File) error {
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, new(windows.Overlapped))
}

// syncDir: Windows cannot sync a directory; MoveFileEx is atomic.
func syncDir(string) error { return nil }

// checkPerm: Go shows every Windows directory as mode 0777 (there are no
// mode bits, only ACLs, set at installation like the configuration's), so
// a mode check would refuse every state directory.
func checkPerm(string, fs.FileInfo) error { return nil }

// readOnly reports whether err says the file system is read-only.
func readOnly(err error) bool { return errors.Is(err, windows.ERROR_WRITE_PROTECT) }
