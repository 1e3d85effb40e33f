//go:build !linux

package runas

import (
	"errors"
	"io/fs"
	"os"
)

// Files runs fn. Only Linux gives a thread another user's file-system
// identity; Windows keeps the application's directories to
// administrators by their ACLs, which quiesce checks where it reads its
// own files.
func Files(_ Account, fn func() error) error { return fn() }

// openRegular opens path and refuses anything but a regular file.
func openRegular(path string, flag int, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag, perm)
	if err != nil {
		return nil, err
	}
	if err := checkRegular(f, path); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// openInput opens path for reading and refuses a directory.
func openInput(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || st.IsDir() {
		f.Close()
		if err == nil {
			err = errors.New(path + ": is a directory")
		}
		return nil, err
	}
	return f, nil
}
