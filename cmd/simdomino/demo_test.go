//go:build linux

package main

import (
	"os"
	"os/exec"
	"os/user"
	"strings"
	"testing"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// TestDemoAsOrdinaryUser runs the README's demo as a user who is not root
// (the simulator's user when the test runs as root): it must succeed and
// name the user the simulated server runs as.
func TestDemoAsOrdinaryUser(t *testing.T) {
	simtest.Slow(t)
	sim, quiesce := simtest.Binary(t, "simdomino"), simtest.Binary(t, "quiesce")
	name := simtest.User(t)
	cmd := exec.Command(sim, "demo", "--quiesce", quiesce)
	if os.Geteuid() == 0 {
		u, err := user.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command("setpriv", "--reuid", u.Uid, "--regid", u.Gid, "--clear-groups", sim, "demo", "--quiesce", quiesce)
	}
	cmd.Dir = os.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo as %s: %v\n%s", name, err, out)
	}
	for _, want := range []string{"0 refused", "online snapshot + deltas of backup", "CONSISTENT, 12 databases restored"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("demo as %s: the online part lacks %q:\n%s", name, want, out)
		}
	}
	if !strings.Contains(string(out), "(user "+name+", ") || !strings.Contains(string(out), "Demo OK") {
		t.Fatalf("demo as %s does not name its user or did not succeed:\n%s", name, out)
	}
}
