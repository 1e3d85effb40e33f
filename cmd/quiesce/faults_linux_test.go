//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// Faults that must not leave Domino down, nor make a message untrue: a
// dead watchdog, a full or read-only state file system, a crashed server,
// a step of the wall clock (#24).

func slowTest(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("waits for a freeze's deadline: not in the short tier")
	}
}

// A watchdog killed while it guards a freeze: any quiesce run notices and
// starts one again; status says so, and the new one ends the freeze at
// its deadline.
func TestStatusRearmsAKilledWatchdog(t *testing.T) {
	slowTest(t)
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.2}, "deadline = 8s\n")
	g.mustRun(t, "start")
	g.mustRun(t, "vmware", "freeze")
	simtest.Eventually(t, 5*time.Second, "a watchdog guards the freeze", func() bool { return len(g.watchdogs()) == 1 })
	g.killWatchdogs()
	simtest.Eventually(t, 5*time.Second, "the watchdog is gone", func() bool { return len(g.watchdogs()) == 0 })
	_, out := g.run(t, "status")
	if !strings.Contains(out, "no watchdog guarded this freeze: one was started now") || !strings.Contains(out, "the watchdog starts") {
		t.Fatalf("status after the watchdog was killed:\n%s", out)
	}
	simtest.Eventually(t, 5*time.Second, "status started a watchdog", func() bool { return len(g.watchdogs()) == 1 })
	simtest.Eventually(t, 8*time.Second+5*time.Second, "the new watchdog starts Domino at the deadline", g.sim.Serving)
}

// A freeze past its deadline that nothing ended (its watchdog was killed
// and no quiesce ran since): Domino stayed stopped until the thaw, so the
// caller's snapshot is what the freeze promised. The thaw starts it, says
// it came late and why, and succeeds; nothing claims Domino was "already
// brought back".
func TestThawAfterADeadWatchdogTellsTheTruth(t *testing.T) {
	slowTest(t)
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.2}, "deadline = 4s\n")
	g.mustRun(t, "start")
	g.mustRun(t, "vmware", "freeze")
	simtest.Eventually(t, 5*time.Second, "a watchdog guards the freeze", func() bool { return len(g.watchdogs()) == 1 })
	g.killWatchdogs()
	time.Sleep(5 * time.Second) // past the deadline, with no watchdog
	if g.sim.Serving() {
		t.Fatal("Domino serves without anything having started it")
	}
	code, out := g.run(t, "vmware", "thaw")
	if code != 0 || !strings.Contains(out, g.name()+" started and serving") || !strings.Contains(out, "nothing ended it (no watchdog ran)") ||
		strings.Contains(out, "already") {
		t.Fatalf("thaw after a dead watchdog: exit %d %s", code, out)
	}
}

// Where systemd runs the machine, the watchdog is a service it restarts:
// SIGKILL it in the middle of a freeze that is never thawed, and Domino
// is still started at the deadline.
func TestSystemdRestartsAKilledWatchdog(t *testing.T) {
	slowTest(t)
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.2}, "deadline = 8s\n")
	s := bootSystemd(t, map[string]string{})
	s.env = append(s.env, "QUIESCE_TEST_NO_SUPERVISOR=") // its own systemd supervises
	q := func(args ...string) string {
		out, err := s.run(append([]string{g.bin, "--config", g.cfg, "--log-file", g.logFile}, args...)...)
		if err != nil {
			t.Fatalf("quiesce %v in the namespace: %v %s\n%s", args, err, out, g.log(t))
		}
		return out
	}
	q("start")
	q("vmware", "freeze")
	unit := ""
	simtest.Eventually(t, 10*time.Second, "the watchdog runs as a systemd service\n"+g.log(t), func() bool {
		out, _ := s.run("systemctl", "list-units", "--no-legend", "--plain", "quiesce-watchdog-*")
		if f := strings.Fields(out); len(f) > 0 && s.prop(f[0], "ActiveState") == "active" {
			unit = f[0]
		}
		return unit != ""
	})
	pid := s.prop(unit, "MainPID")
	if err := exec.Command("sh", "-c", "echo -1000 > /proc/self/oom_score_adj").Run(); err != nil {
		t.Logf("this kernel refuses oom_score_adj (%v): the watchdog's OOM protection is not checked here", err)
	} else if adj, _ := s.run("cat", "/proc/"+pid+"/oom_score_adj"); strings.TrimSpace(adj) != "-1000" {
		t.Errorf("the watchdog's oom_score_adj is %q, want -1000", strings.TrimSpace(adj))
	}
	if out, err := s.run("kill", "-9", pid); err != nil {
		t.Fatalf("kill the watchdog: %v %s", err, out)
	}
	simtest.Eventually(t, 10*time.Second, "systemd restarts the watchdog", func() bool {
		p := s.prop(unit, "MainPID")
		return p != "" && p != "0" && p != pid && s.prop(unit, "NRestarts") == "1"
	})
	simtest.Eventually(t, 8*time.Second+5*time.Second, "the restarted watchdog starts Domino at the deadline", g.sim.Serving)
	simtest.Eventually(t, 10*time.Second, "the watchdog's service ends once nothing is frozen", func() bool {
		st := s.prop(unit, "ActiveState")
		return st == "inactive" || st == ""
	})
	if !g.sim.Serving() {
		t.Fatal("Domino went away with the watchdog's service")
	}
}

// mountTmpfs mounts a small file system of its own for the state
// directory, unmounted when the test ends.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	simtest.Require(t, os.Geteuid() == 0, "mounting a small file system needs root")
	dir := filepath.Join(t.TempDir(), "statefs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		simtest.Require(t, false, fmt.Sprintf("mount tmpfs: %v %s", err, out))
	}
	t.Cleanup(func() {
		simtest.KillWatchdogs(filepath.Join(dir, "state"))
		_ = exec.Command("umount", "-l", dir).Run()
	})
	return dir
}

// fill writes into dir until its file system is full.
func fill(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			return
		}
	}
}

// Starting the application comes before bookkeeping: with the state file
// system full, and then read-only, a thaw and a watchdog still start
// Domino, and a thaw that could not record it says what could not be
// recorded.
func TestStartComesBeforeBookkeeping(t *testing.T) {
	slowTest(t)
	fsdir := mountTmpfs(t, "1m")
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.2}, "deadline = 6s\n")
	g.state = filepath.Join(fsdir, "state")
	body := strings.Replace(mustRead(t, g.cfg), "state_dir = ", "state_dir = "+g.state+"\n# was: ", 1)
	if err := os.WriteFile(g.cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	g.mustRun(t, "start")

	// full: the thaw starts Domino
	g.mustRun(t, "vmware", "freeze")
	fill(t, fsdir)
	if code, out := g.run(t, "vmware", "thaw"); !g.sim.Serving() {
		t.Fatalf("thaw with the state file system full: exit %d %s", code, out)
	}
	_ = os.Remove(filepath.Join(fsdir, "filler"))

	// full: the watchdog starts Domino at the deadline
	g.mustRun(t, "qemu", "freeze")
	fill(t, fsdir)
	simtest.Eventually(t, 6*time.Second+8*time.Second, "the watchdog starts Domino with the state file system full", g.sim.Serving)
	_ = os.Remove(filepath.Join(fsdir, "filler"))
	g.killWatchdogs()

	// read-only: the thaw starts Domino and says what it could not record
	if code, out := g.run(t, "qemu", "thaw"); code != 0 && !strings.Contains(out, "late thaw") {
		t.Fatalf("late thaw after the watchdog: exit %d %s", code, out)
	}
	g.mustRun(t, "veeam", "pre-freeze")
	g.killWatchdogs() // it holds its lock open for writing: no read-only remount while it runs
	simtest.Eventually(t, 5*time.Second, "the watchdog is gone", func() bool { return len(g.watchdogs()) == 0 })
	if out, err := exec.Command("mount", "-o", "remount,ro", fsdir).CombinedOutput(); err != nil {
		t.Fatalf("remount read-only: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("mount", "-o", "remount,rw", fsdir).Run() })
	code, out := g.run(t, "veeam", "post-thaw")
	if !g.sim.Serving() {
		t.Fatalf("thaw with the state file system read-only did not start Domino: exit %d %s", code, out)
	}
	if code == 0 || !strings.Contains(out, "could not be cleared from the state directory") {
		t.Fatalf("thaw with the state file system read-only: exit %d %s; want a failure that says what was not recorded", code, out)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A freeze of a Domino server that crashed (not running, but ~notes.lck
// and pid.nbf are there: it never shut down cleanly) fails with one line:
// its databases are not closed, and a snapshot would be only
// crash-consistent. crashed = accept takes it, with a warning.
func TestFreezeOfACrashedServer(t *testing.T) {
	simtest.Slow(t)
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.2}, "")
	g.mustRun(t, "start")
	for _, p := range g.sim.Procs() {
		_ = syscall.Kill(int(p.PID), syscall.SIGKILL)
	}
	simtest.Eventually(t, 5*time.Second, "the server is gone", func() bool { return len(g.sim.Procs()) == 0 })
	code, out := g.run(t, "vmware", "freeze")
	if code == 0 || strings.Count(out, "\n") != 1 || !strings.Contains(out, "did not shut down cleanly") || !strings.Contains(out, "crash-consistent") {
		t.Fatalf("freeze of a crashed server: exit %d %s", code, out)
	}
	if len(g.sim.Procs()) != 0 {
		t.Fatal("the refused freeze started something")
	}
	accept := strings.Replace(mustRead(t, g.cfg), "lock_wait = 30s\n", "lock_wait = 30s\ncrashed = accept\n", 1)
	if err := os.WriteFile(g.cfg, []byte(accept), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out = g.run(t, "vmware", "freeze")
	if code != 0 || !strings.Contains(out, "only crash-consistent (accepted by crashed = accept)") {
		t.Fatalf("freeze with crashed = accept: exit %d %s", code, out)
	}
	g.mustRun(t, "vmware", "thaw")
}

// Deadlines cross processes and reboots, so they are wall-clock times,
// kept on the boot clock as well: a step of the wall clock by an hour,
// forward or back, in every quiesce process (the test clock), neither
// ends a freeze early nor leaves Domino down past its deadline.
func TestClockStepsDuringAFreeze(t *testing.T) {
	slowTest(t)
	for _, step := range []string{"1h", "-1h"} {
		t.Run(step, func(t *testing.T) {
			offset := filepath.Join(t.TempDir(), "offset")
			t.Setenv(clockOffsetEnv, offset)
			g := newGuest(t, simtest.Options{ShutdownSeconds: 0.2}, "deadline = 8s\n")
			g.mustRun(t, "start")
			began := time.Now()
			g.mustRun(t, "vmware", "freeze")
			if err := os.WriteFile(offset, []byte(step), 0o644); err != nil {
				t.Fatal(err)
			}
			if step == "1h" {
				// an hour "later" on the wall clock: not a second later on the boot clock
				time.Sleep(time.Until(began.Add(5 * time.Second)))
				if g.sim.Serving() {
					t.Fatal("the watchdog ended the freeze early when the wall clock stepped forward")
				}
				if code, out := g.run(t, "status"); !strings.Contains(out, "FROZEN") {
					t.Fatalf("status: %d %s", code, out)
				}
			}
			simtest.Eventually(t, time.Until(began.Add(8*time.Second+5*time.Second)), "Domino is started at the freeze's deadline", g.sim.Serving)
			if d := time.Since(began); d < 7*time.Second {
				t.Fatalf("Domino was started %s after the freeze, before its 8 s deadline", d)
			}
		})
	}
}
