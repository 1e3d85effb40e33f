//go:build !linux

package ready

// watch: without inotify the probes are polled.
type watch struct{}

func newWatch([]string) *watch { return nil }

func (w *watch) changes() <-chan struct{} { return nil }

func (w *watch) close() {}
