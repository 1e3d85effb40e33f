//go:build linux

package main

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/core/manifest"
	"github.com/quiesce/quiesce/core/online"
)

// verifyCopy runs quiesce verify on a copy and returns its exit code and
// its one line.
func verifyCopy(t *testing.T, g *guest, args ...string) (int, string) {
	t.Helper()
	code, out := g.run(t, append([]string{"verify"}, args...)...)
	if n := strings.Count(strings.TrimSpace(out), "\n"); n != 0 {
		t.Fatalf("verify %v: %d lines, want one:\n%s", args, n+1, out)
	}
	return code, strings.TrimSpace(out)
}

// A snapshot taken while Domino was stopped proves itself: the manifest
// the freeze wrote (as the Domino user, in the data directory) is in the
// copy and nothing changed after it. A copy taken while Domino runs has
// none (the thaw removed it), and one that carries a manifest from
// before is caught by the databases that changed since.
func TestVerifyStoppedCopy(t *testing.T) {
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.2}, "")
	g.mustRun(t, "start")
	g.mustRun(t, "vmware", "freeze", "j-17")
	live := filepath.Join(g.sim.Data, manifest.Name)
	if st, err := os.Stat(live); err != nil || !ownedBy(st, g.sim.User) {
		t.Fatalf("manifest in the data directory: %v (owner must be the Domino user %s)", err, g.sim.User)
	}
	snap := g.sim.Snapshot()
	g.mustRun(t, "vmware", "thaw", "j-17")
	if _, err := os.Stat(live); !os.IsNotExist(err) {
		t.Fatalf("the thaw left the manifest in the live data directory: %v", err)
	}
	code, out := verifyCopy(t, g, filepath.Dir(snap)) // the restore point's root: the manifest is found below
	if code != 0 || !strings.HasPrefix(out, "consistent: "+g.name()+" (stop) frozen by vmware (job j-17) at ") {
		t.Fatalf("stopped copy: exit %d %s", code, out)
	}

	running := g.sim.Snapshot()
	if code, out := verifyCopy(t, g, running); code != ExitFailure || !strings.Contains(out, "NOT CONSISTENT") || !strings.Contains(out, "no quiesce snapshot manifest") {
		t.Fatalf("copy of a running server: exit %d %s", code, out)
	}
	b, _ := os.ReadFile(filepath.Join(snap, manifest.Name)) // a stale manifest left in the running server
	_ = os.WriteFile(filepath.Join(running, manifest.Name), b, 0o644)
	if code, out := verifyCopy(t, g, running); code != ExitFailure || !strings.Contains(out, "changed after the manifest") || !strings.Contains(out, "copied while it ran") {
		t.Fatalf("copy of a running server with an old manifest: exit %d %s", code, out)
	}
	if code, out := g.run(t, "verify", filepath.Join(running, "nowhere")); code != ExitUsage || !strings.Contains(out, "not a directory") {
		t.Fatalf("verify of no directory: exit %d %s", code, out)
	}
}

// An online snapshot proves itself together with its deltas: its one tag
// file is the manifest's backup, and every database that changed in
// backup mode has its .DELTA. A foreign tag in the copy, or no deltas,
// make it inconsistent, and verify says which.
func TestVerifyOnlineCopy(t *testing.T) {
	forOrders(t, func(t *testing.T, o simtest.Options) {
		g := newOnlineGuest(t, o, "online", "", "")
		g.mustRun(t, "start")
		id := backupID(t, g.mustRun(t, "veeam", "pre-freeze"))
		snap := g.sim.TakeSnapshot()
		g.mustRun(t, "veeam", "post-thaw")
		if _, err := os.Stat(filepath.Join(g.sim.Data, manifest.Name)); !os.IsNotExist(err) {
			t.Fatalf("the thaw left the manifest in the live data directory: %v", err)
		}
		code, out := verifyCopy(t, g, snap.Dir)
		if code != 0 || !strings.HasPrefix(out, "consistent with its deltas: "+g.name()+" (in backup mode of Domino Backup "+id+") frozen by veeam at ") {
			t.Fatalf("online copy: exit %d %s", code, out)
		}
		if err := g.sim.CheckOnline(snap, id); err != nil { // the simulator agrees
			t.Fatal(err)
		}

		empty := t.TempDir()
		if code, out := verifyCopy(t, g, "--deltas", empty, snap.Dir); code != ExitFailure || !strings.Contains(out, "deltas missing") {
			t.Fatalf("online copy without its deltas: exit %d %s", code, out)
		}
		if err := os.WriteFile(filepath.Join(snap.Dir, online.TagName("20200101000000")), []byte("20200101000000\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, out := verifyCopy(t, g, snap.Dir); code != ExitFailure || !strings.Contains(out, "tag mismatch") || !strings.Contains(out, "20200101000000") {
			t.Fatalf("online copy with a foreign tag: exit %d %s", code, out)
		}
	})
}

// ownedBy reports whether a file belongs to the named user.
func ownedBy(st os.FileInfo, name string) bool {
	u, err := user.Lookup(name)
	if err != nil {
		return false
	}
	s, ok := st.Sys().(*syscall.Stat_t)
	return ok && strconv.Itoa(int(s.Uid)) == u.Uid
}
