//go:build linux

package main

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// A freeze by a user who may not act as the Domino user stops nothing: it
// must say so, and must not claim the server was started again.
func TestFreezeWithoutPermissionSaysNothingWasStopped(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run as another user")
	}
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.2}, "")
	if g.sim.User == "nobody" {
		t.Skip("the simulated server already runs as nobody (set QUIESCE_TEST_USER or create notes)")
	}
	g.mustRun(t, "start")
	before := g.sim.Procs()
	dir, err := os.MkdirTemp("", "quiesce-perm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	_ = os.Chmod(dir, 0o755) // root's configuration, in a folder only root writes
	own := filepath.Join(dir, "nobody")
	if err := os.Mkdir(own, 0o755); err != nil {
		t.Fatal(err)
	}
	nobody, _ := user.Lookup("nobody")
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	if err := os.Chown(own, uid, gid); err != nil { // nobody's state and log
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "quiesce.conf")
	body, _ := os.ReadFile(g.cfg)
	body = []byte(strings.Replace(string(body), "state_dir = "+g.state, "state_dir = "+filepath.Join(own, "state"), 1))
	if err := os.WriteFile(cfg, body, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups",
		g.bin, "--config", cfg, "--log-file", filepath.Join(own, "q.log"), "vmware", "freeze")
	out, _ := cmd.CombinedOutput()
	code := cmd.ProcessState.ExitCode()
	after := g.sim.Procs()
	if len(after) != len(before) || after[0].PID != before[0].PID || !g.sim.Serving() {
		t.Fatalf("the freeze changed the server: %d processes before, %d after\n%s", len(before), len(after), out)
	}
	msg := string(out)
	if code == 0 || strings.Contains(msg, "started again") || !strings.Contains(msg, "run as root or as "+g.sim.User) ||
		!strings.Contains(msg, "not stopped") {
		t.Fatalf("exit %d, message %q: want a failure that says the server was not stopped", code, msg)
	}
}

// Freeze and thaw say what they did when there was nothing to do: a
// stopped server is not started by the thaw, and a thaw with nothing
// frozen changes nothing.
func TestMessagesWhenNothingToDo(t *testing.T) {
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.2}, "")
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"qemu", "freeze"}, "quiesce qemu freeze: freeze OK: " + g.name() + " is not running; nothing to stop"},
		{[]string{"qemu", "thaw"}, "quiesce qemu thaw: thaw OK: "},
		{[]string{"qemu", "thaw"}, "quiesce qemu thaw: thaw OK: nothing frozen; nothing to do"},
	}
	for _, s := range steps {
		code, out := g.run(t, s.args...)
		if code != 0 || !strings.HasPrefix(out, s.want) || strings.Count(out, "\n") != 1 {
			t.Fatalf("%v: exit %d, %q; want %q", s.args, code, out, s.want)
		}
		if strings.Contains(out, "started") || len(g.sim.Procs()) != 0 {
			t.Fatalf("%v: %q, %d processes: nothing was to be started", s.args, out, len(g.sim.Procs()))
		}
	}
}
