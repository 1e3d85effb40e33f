//go:build linux

package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// status during a freeze says that a freeze holds Domino, by which callers,
// since when, and what the watchdog does when; --json gives the same for
// scripts. After the thaw nothing of it remains.
func TestStatusShowsAFreezeInPlace(t *testing.T) {
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.2}, "")
	g.mustRun(t, "start")
	g.mustRun(t, "vmware", "freeze", "job-42")
	g.mustRun(t, "qemu", "freeze")
	code, out := g.run(t, "status")
	for _, want := range []string{"Domino is stopped", g.name() + " is FROZEN by vmware (job job-42) since ", ", qemu since ",
		"quiesce stopped " + g.name() + " at ", "the watchdog starts " + g.name() + " and ends the freeze"} {
		if !strings.Contains(out, want) {
			t.Fatalf("status during a freeze lacks %q (exit %d):\n%s", want, code, out)
		}
	}
	if code != StatusStopped {
		t.Fatalf("status during a freeze: exit %d, want %d (stopped)", code, StatusStopped)
	}
	code, out = g.run(t, "status", "--json")
	var st struct {
		Targets []targetView `json:"targets"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != StatusStopped || len(st.Targets) != 1 {
		t.Fatalf("status --json: exit %d, %v:\n%s", code, err, out)
	}
	f := st.Targets[0].Freeze
	if st.Targets[0].State != "stopped" || f == nil || len(f.Holders) != 2 || f.Holders[0].Caller != "vmware" || f.Holders[0].Job != "job-42" ||
		!f.StartOwed || f.Since == nil || f.Deadline == nil || !f.Deadline.After(time.Now()) {
		t.Fatalf("status --json during a freeze:\n%s", out)
	}
	g.mustRun(t, "vmware", "thaw", "job-42")
	g.mustRun(t, "qemu", "thaw")
	code, out = g.run(t, "status")
	if code != StatusRunning || strings.Contains(out, "FROZEN") || strings.Contains(out, "watchdog") {
		t.Fatalf("status after the thaw: exit %d:\n%s", code, out)
	}
	if _, out = g.run(t, "status", "--json"); strings.Contains(out, `"freeze"`) || !strings.Contains(out, `"serving": true`) {
		t.Fatalf("status --json after the thaw:\n%s", out)
	}
}
