package config

import (
	"errors"
	"fmt"
	"io"
)

// MaxSize is the largest configuration (or hook) file quiesce reads: a
// real one is a few kilobytes; /dev/zero is not one.
const MaxSize = 1 << 20

// ErrNotRegular: what was named is a FIFO, a device or a directory.
var ErrNotRegular = errors.New("not a regular file")

// ReadSafe reads a file quiesce obeys: its configuration, or the hook file
// it runs from. The file is opened once, without blocking on a FIFO, and
// what was opened is checked, not the name again: it must be a regular
// file of at most MaxSize that no one but root (or quiesce's own user)
// could change, in directories no one else could change either, as sudo
// and OpenSSH check theirs (see CheckSafe). Errors are *Error naming the
// file; an unsafe one wraps ErrUnsafe.
func ReadSafe(path string) ([]byte, error) {
	f, err := openSafe(path)
	if err != nil {
		return nil, fileError(path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error(), Err: err}
	}
	if len(b) > MaxSize {
		return nil, &Error{File: path, Msg: fmt.Sprintf("larger than %d bytes: not a configuration file", MaxSize)}
	}
	return b, nil
}

// CheckSafe refuses a file others could change to make quiesce (often
// root) run something of theirs; the message says how to fix it. It opens
// the file as ReadSafe does.
func CheckSafe(path string) error {
	f, err := openSafe(path)
	if err != nil {
		return err
	}
	return f.Close()
}

// unsafeError is a file or directory others could change.
type unsafeError struct{ msg string }

func (e *unsafeError) Error() string { return e.msg }
func (e *unsafeError) Unwrap() error { return ErrUnsafe }

func unsafef(format string, a ...any) error { return &unsafeError{fmt.Sprintf(format, a...)} }

// fileError turns an open or check failure into the configuration error.
func fileError(path string, err error) error {
	var u *unsafeError
	if errors.As(err, &u) {
		return &Error{File: path, Msg: "unsafe: " + u.msg, Err: ErrUnsafe}
	}
	return &Error{File: path, Msg: readMsg(err), Err: err}
}

// CheckDir refuses a directory quiesce writes files into as root (a hook
// folder, say) that others could change: the directory itself and every
// one above it must be safe as for ReadSafe. A missing directory is
// checked from its first existing parent.
func CheckDir(dir string) error {
	return checkDir(dir)
}
