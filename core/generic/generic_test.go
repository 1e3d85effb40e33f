//go:build linux

package generic

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/freeze/stopstart"
	"github.com/quiesce/quiesce/core/proc"
)

// app installs a copy of sleep as a foreground "server" in its own
// directory and returns its target configuration.
func app(t *testing.T, stop []string) config.Generic {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "app")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "appd")
	in, _ := os.Open("/bin/sleep")
	out, _ := os.OpenFile(exe, os.O_CREATE|os.O_WRONLY, 0o755)
	_, _ = io.Copy(out, in)
	in.Close()
	out.Close()
	t.Cleanup(func() {
		ps, _ := proc.NewSystem().Scan(proc.Matcher{UID: -1, Prefixes: []string{dir}})
		for _, p := range ps {
			_ = proc.Signal(p, 9)
		}
	})
	return config.Generic{Name: "app", Manager: config.ManagerCommands, Start: []string{exe, "300"}, Stop: stop,
		ProcessPaths: []string{dir}, ReadyCommand: []string{"/bin/true"},
		StopTimeout: 300 * time.Millisecond, KillWait: 2 * time.Second, StartTimeout: 5 * time.Second}
}

func newTarget(t *testing.T, cfg config.Generic) *Target {
	tg, err := New(cfg, "test.conf", proc.NewSystem(), zaptest.NewLogger(t), clock.Real{})
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// A foreground server whose stop command fails: the stop escalates to
// SIGTERM after the graceful wait, and says so.
func TestStopEscalatesWhenStopCommandFails(t *testing.T) {
	tg := newTarget(t, app(t, []string{"/bin/false"}))
	if _, err := tg.Start(context.Background()); err != nil {
		t.Fatalf("start of a foreground server: %v", err)
	}
	if _, err := tg.Start(context.Background()); !errors.Is(err, stopstart.ErrAlreadyRunning) {
		t.Fatalf("second start: %v", err)
	}
	rep, err := tg.Stop(context.Background(), 300*time.Millisecond)
	if err != nil || !rep.Forced || rep.Outcome != "killed by signal" || len(rep.Killed) != 1 || !strings.HasPrefix(rep.Killed[0], "appd[") {
		t.Fatalf("stop: %+v %v", rep, err)
	}
	if running, _ := tg.Running(); running {
		t.Fatal("still running")
	}
	if rep, err := tg.Stop(context.Background(), time.Second); err != nil || rep.Outcome != "not running" {
		t.Fatalf("stop of a stopped app: %+v %v", rep, err)
	}
}

// A start command that fails is reported at once, not after the timeout.
func TestFailingStartCommand(t *testing.T) {
	cfg := app(t, []string{"/bin/true"})
	cfg.Start = []string{"/bin/false"}
	cfg.StartTimeout = time.Minute
	began := time.Now()
	_, err := newTarget(t, cfg).Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "start command /bin/false failed") || time.Since(began) > 30*time.Second {
		t.Fatalf("got %v after %s", err, time.Since(began))
	}
}
