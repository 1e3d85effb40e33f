package runas

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrNotRegular: a file quiesce reads or appends to in a directory another
// user controls is not a plain file (a FIFO, a device, a directory).
var ErrNotRegular = errors.New("not a regular file")

// OpenFile opens path with the file-system identity of a (see Files): a
// link planted in a directory a controls reaches only what a could open
// itself, and a file created belongs to a. It never blocks on a FIFO, and
// refuses anything but a regular file.
func OpenFile(a Account, path string, flag int, perm fs.FileMode) (*os.File, error) {
	var f *os.File
	err := Files(a, func() error {
		var err error
		f, err = openRegular(path, flag, perm)
		return err
	})
	return f, err
}

// OpenAppend opens path for appending as a (see OpenFile), creating it
// and its directory (mode 0755) when they do not exist.
func OpenAppend(a Account, path string, perm fs.FileMode) (*os.File, error) {
	var f *os.File
	err := Files(a, func() error {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		var err error
		f, err = openRegular(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, perm)
		return err
	})
	return f, err
}

// OpenInput opens path for reading as a, without blocking on a FIFO: a
// program's standard input may be a FIFO or a device as well as a file.
// A directory is refused.
func OpenInput(a Account, path string) (*os.File, error) {
	var f *os.File
	err := Files(a, func() error {
		var err error
		f, err = openInput(path)
		return err
	})
	return f, err
}

// ReadFile reads at most limit bytes of path as a (see OpenFile); a longer
// file is an error, not a truncated read.
func ReadFile(a Account, path string, limit int64) ([]byte, error) {
	f, err := OpenFile(a, path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && int64(len(b)) > limit {
		err = fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return b, err
}

// Remove removes path as a: only what a could remove itself goes.
func Remove(a Account, path string) error {
	return Files(a, func() error { return os.Remove(path) })
}

// MkdirAll creates path and its parents as a.
func MkdirAll(a Account, path string, perm fs.FileMode) error {
	return Files(a, func() error { return os.MkdirAll(path, perm) })
}

// checkRegular refuses an open file that is not a regular one.
func checkRegular(f *os.File, path string) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, st.Mode().Type())
	}
	return nil
}
