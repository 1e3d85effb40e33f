package ready

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The watch wakes Wait when a file in a watched directory is written,
// created or renamed into place (a rotated log).
func TestWatchWakesOnChange(t *testing.T) {
	dir := t.TempDir()
	w := newWatch([]string{dir, filepath.Join(dir, "missing")})
	if w == nil {
		t.Fatal("no watch on an existing directory")
	}
	defer w.close()
	file := filepath.Join(dir, "console.log")
	for _, c := range []struct {
		what   string
		change func() error
	}{
		{"create", func() error { return os.WriteFile(file, nil, 0o644) }},
		{"append", func() error {
			f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
			if err == nil {
				_, err = f.WriteString("a line\n")
				f.Close()
			}
			return err
		}},
		{"rotate", func() error {
			_ = os.WriteFile(file+".new", []byte("x\n"), 0o644)
			return os.Rename(file+".new", file)
		}},
	} {
		drain(w)
		if err := c.change(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-w.changes():
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no wake-up", c.what)
		}
	}
	if newWatch([]string{filepath.Join(dir, "missing")}) != nil || newWatch(nil) != nil {
		t.Fatal("a watch of nothing")
	}
}

func drain(w *watch) {
	for {
		select {
		case <-w.changes():
		default:
			return
		}
	}
}

// A log line probe passes whether its directory exists from the start
// (watched) or appears later (polled).
func TestWaitLogLine(t *testing.T) {
	for _, sub := range []string{".", "later"} {
		dir := filepath.Join(t.TempDir(), sub)
		file := filepath.Join(dir, "console.log")
		p := NewLogLine(file, "Server started", nil)
		go func() {
			time.Sleep(30 * time.Millisecond)
			_ = os.MkdirAll(dir, 0o755)
			_ = os.WriteFile(file, []byte("booting\nServer started on physical node\n"), 0o644)
		}()
		if err := Wait(ctx, []Probe{p}, time.Now().Add(time.Minute), nil); err != nil {
			t.Fatalf("%s: %v", sub, err)
		}
	}
}
