package conformance

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows/registry"
	"golang.org/x/sys/windows/svc"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// The Windows side of the safety net (#24): what must hold on Linux holds
// here too, with Windows' own means.

// withFreeze adds lines to the rig's [freeze] section.
func (r *winRig) withFreeze(t *testing.T, lines string) {
	t.Helper()
	b, err := os.ReadFile(r.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(r.cfg, []byte(strings.Replace(string(b), "[freeze]\n", "[freeze]\n"+lines, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// serviceRunsWithin waits until the service runs and serves.
func (r *winRig) serviceRunsWithin(t *testing.T, d time.Duration, why string) {
	t.Helper()
	simtest.Eventually(t, d, why, func() bool { return r.state(t) == svc.Running && r.sim.Serving() })
}

// A watchdog killed while it guards a freeze: status notices, starts one
// again and says so, and the new one starts Domino at the deadline.
func TestWindowsKilledWatchdogIsRearmed(t *testing.T) {
	simtest.Slow(t)
	r := newWinRig(t, simtest.Options{ShutdownSeconds: 0.3}, "60s")
	r.withFreeze(t, "deadline = 20s\n")
	r.start(t)
	t.Cleanup(func() { simtest.KillWatchdogs(r.stateDir) })
	began := time.Now()
	if res := r.quiesce(t, "vmware", "freeze"); res.code != 0 {
		t.Fatalf("freeze: %d %s%s", res.code, res.stdout, res.stderr)
	}
	r.mustBeDown(t)
	simtest.Eventually(t, 10*time.Second, "a watchdog guards the freeze", func() bool { return len(simtest.Watchdogs(r.stateDir)) == 1 })
	simtest.KillWatchdogs(r.stateDir)
	simtest.Eventually(t, 10*time.Second, "the watchdog is gone", func() bool { return len(simtest.Watchdogs(r.stateDir)) == 0 })
	res := r.quiesce(t, "status")
	if !strings.Contains(res.stdout, "no watchdog guarded this freeze: one was started now") {
		t.Fatalf("status after the watchdog was killed: %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	simtest.Eventually(t, 10*time.Second, "status started a watchdog", func() bool { return len(simtest.Watchdogs(r.stateDir)) == 1 })
	if r.state(t) != svc.Stopped {
		t.Fatal("Domino was started before the freeze's deadline")
	}
	r.serviceRunsWithin(t, time.Until(began.Add(20*time.Second+60*time.Second)), "the new watchdog starts Domino at the deadline")
	if d := time.Since(began); d < 19*time.Second {
		t.Fatalf("Domino started %s after the freeze, before its 20 s deadline", d)
	}
}

// A freeze of a Domino server that crashed (the service stopped with an
// error, pid.nbf and ~notes.lck left): one line says a snapshot would be
// only crash-consistent, and nothing is started.
func TestWindowsFreezeOfACrashedServer(t *testing.T) {
	simtest.Slow(t)
	r := newWinRig(t, simtest.Options{ShutdownSeconds: 0.3}, "60s")
	r.start(t)
	r.sim.Crash()
	simtest.Eventually(t, 30*time.Second, "the service control manager sees the service stopped", func() bool { return r.state(t) == svc.Stopped })
	if _, err := os.Stat(filepath.Join(r.sim.Data, "pid.nbf")); err != nil {
		t.Fatalf("the crash left no pid.nbf (%v): this test proves nothing", err)
	}
	res := r.quiesce(t, "vmware", "freeze")
	out := res.stdout + res.stderr
	if res.code == 0 || strings.Count(out, "\n") != 1 || !strings.Contains(out, "crash-consistent") {
		t.Fatalf("freeze of a crashed server: exit %d %s", res.code, out)
	}
	if len(r.sim.Procs()) != 0 || r.state(t) != svc.Stopped {
		t.Fatal("the refused freeze started something")
	}
}

// A configuration that is not a regular file, or is too large to be one,
// is refused at once with one line (status: 4, LSB's unknown; any other
// command: 6), and reading it neither fills the memory nor hangs.
func TestWindowsConfigMustBeARegularFile(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.conf")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", 2<<20)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := simtest.Binary(t, "quiesce")
	for _, path := range []string{dir, "NUL", big} {
		for _, c := range []struct {
			op   string
			code int
		}{{"status", 4}, {"stop", 6}} {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			cmd := exec.CommandContext(ctx, bin, "--config", path, "--state-dir", filepath.Join(dir, "state"), "--log-file", filepath.Join(dir, "q.log"), c.op)
			out, _ := cmd.CombinedOutput()
			late := ctx.Err() == context.DeadlineExceeded
			cancel()
			if late {
				t.Fatalf("--config %s %s: still running after 60 s", path, c.op)
			}
			if code := cmd.ProcessState.ExitCode(); code != c.code || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 || !strings.Contains(string(out), path) {
				t.Errorf("--config %s %s: exit %d, want %d and one line naming the file: %q", path, c.op, code, c.code, out)
			}
		}
	}
}

// A step of the wall clock by an hour, either way, in every quiesce
// process during a freeze neither ends it early nor leaves Domino down
// past its deadline: the deadline is kept on the boot clock too (Windows'
// BootId and the time since boot).
func TestWindowsClockStepsDuringAFreeze(t *testing.T) {
	simtest.Slow(t)
	ensureBootID(t)
	for _, step := range []string{"1h", "-1h"} {
		t.Run(step, func(t *testing.T) {
			r := newWinRig(t, simtest.Options{ShutdownSeconds: 0.3}, "60s")
			r.withFreeze(t, "deadline = 20s\n")
			offset := filepath.Join(r.dir, "clock-offset")
			r.env = append(r.env, "QUIESCE_TEST_CLOCK_OFFSET_FILE="+offset)
			r.start(t)
			t.Cleanup(func() { simtest.KillWatchdogs(r.stateDir) })
			began := time.Now()
			if res := r.quiesce(t, "vmware", "freeze"); res.code != 0 {
				t.Fatalf("freeze: %d %s%s", res.code, res.stdout, res.stderr)
			}
			if err := os.WriteFile(offset, []byte(step), 0o644); err != nil {
				t.Fatal(err)
			}
			if step == "1h" {
				time.Sleep(time.Until(began.Add(12 * time.Second)))
				if r.state(t) != svc.Stopped {
					t.Fatal("the watchdog ended the freeze early when the wall clock stepped forward")
				}
			}
			r.serviceRunsWithin(t, time.Until(began.Add(20*time.Second+60*time.Second)), "Domino is started at the freeze's deadline")
			if d := time.Since(began); d < 19*time.Second {
				t.Fatalf("Domino was started %s after the freeze, before its 20 s deadline", d)
			}
		})
	}
}

// ensureBootID gives wine what Windows 8 and later keep: the boot's
// number, which wine's registry lacks.
func ensureBootID(t *testing.T) {
	t.Helper()
	k, _, err := registry.CreateKey(registry.LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Control\Session Manager\Memory Management\PrefetchParameters`, registry.QUERY_VALUE|registry.SET_VALUE)
	if err != nil {
		t.Fatalf("the boot number's registry key: %v", err)
	}
	defer k.Close()
	if _, _, err := k.GetIntegerValue("BootId"); err == nil {
		return
	}
	if err := k.SetDWordValue("BootId", 1); err != nil {
		t.Fatal(err)
	}
}
