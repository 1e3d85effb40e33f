package ready

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// watch delivers a wake-up on C whenever a file in one of its directories
// is written, created or renamed into place (inotify).
type watch struct {
	f *os.File
	C chan struct{}
}

// newWatch watches dirs; it returns nil when none can be watched (the
// probes are then only polled).
func newWatch(dirs []string) *watch {
	if len(dirs) == 0 {
		return nil
	}
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil
	}
	added := 0
	for _, dir := range dirs {
		if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_MODIFY|unix.IN_CLOSE_WRITE|unix.IN_CREATE|unix.IN_MOVED_TO); err == nil {
			added++
		}
	}
	if added == 0 {
		unix.Close(fd)
		return nil
	}
	w := &watch{f: os.NewFile(uintptr(fd), "inotify"), C: make(chan struct{}, 1)}
	go w.read()
	return w
}

func (w *watch) read() {
	buf := make([]byte, 16*(unix.SizeofInotifyEvent+unix.PathMax))
	for {
		if _, err := w.f.Read(buf); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			return // closed, or the watch failed: polling goes on
		}
		select {
		case w.C <- struct{}{}:
		default: // a wake-up is pending already
		}
	}
}

// changes is the wake-up channel, nil (never ready) without a watch.
func (w *watch) changes() <-chan struct{} {
	if w == nil {
		return nil
	}
	return w.C
}

func (w *watch) close() {
	if w != nil {
		_ = w.f.Close()
	}
}
