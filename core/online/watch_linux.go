package online

import (
	"context"
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// dirWatch delivers a wake-up for every change in a directory (inotify):
// waits re-check their condition on each one, never on a timer.
type dirWatch struct {
	f *os.File
	C chan struct{}
}

func newDirWatch(dirs ...string) (*dirWatch, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, err
	}
	for _, dir := range dirs {
		if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CLOSE_WRITE|unix.IN_MOVED_TO|unix.IN_CREATE|unix.IN_DELETE|unix.IN_MOVED_FROM|unix.IN_ATTRIB); err != nil {
			unix.Close(fd)
			return nil, &os.PathError{Op: "inotify_add_watch", Path: dir, Err: err}
		}
	}
	w := &dirWatch{f: os.NewFile(uintptr(fd), "inotify"), C: make(chan struct{}, 1)}
	go w.read()
	return w, nil
}

func (w *dirWatch) read() {
	buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.PathMax))
	for {
		if _, err := w.f.Read(buf); err != nil {
			if errors.Is(err, os.ErrClosed) {
				return
			}
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				close(w.C)
				return
			}
		}
		select {
		case w.C <- struct{}{}:
		default: // a wake-up is pending already
		}
	}
}

func (w *dirWatch) Close() { _ = w.f.Close() }

// errTimeout: the condition did not hold before the deadline.
var errTimeout = errors.New("timed out")

// until re-checks cond on every change until it reports done or an error,
// another event (ended) reports an error, the deadline passes or ctx ends.
func (w *dirWatch) until(ctx context.Context, deadline time.Time, ended <-chan error, cond func() (bool, error)) error {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		done, err := cond()
		if done || err != nil {
			return err
		}
		select {
		case _, ok := <-w.C:
			if !ok {
				return errors.New("inotify watch failed")
			}
		case err := <-ended:
			if done, cerr := cond(); done || cerr != nil { // the last change may have come with the exit
				return cerr
			}
			return err
		case <-timer.C:
			if done, err := cond(); done || err != nil {
				return err
			}
			return errTimeout
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
