//go:build !linux

package online

import (
	"context"
	"errors"
	"time"
)

// ErrUnsupported: online mode waits on inotify, which only Linux has. On
// Windows, Domino 12.0.2 and later has its own VSS writer (backupvss).
var ErrUnsupported = errors.New("online mode (Domino Backup snapshot) is only supported on Linux; on Windows use Domino's VSS writer")

type dirWatch struct{ C chan struct{} }

func newDirWatch(dirs ...string) (*dirWatch, error) { return nil, ErrUnsupported }

func (w *dirWatch) Close() {}

var errTimeout = errors.New("timed out")

func (w *dirWatch) until(ctx context.Context, deadline time.Time, ended <-chan error, cond func() (bool, error)) error {
	return ErrUnsupported
}
