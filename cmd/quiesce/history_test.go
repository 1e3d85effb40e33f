//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// history shows the cycles the real binary ran against the simulated
// server: each caller's freeze and thaw, the outage and the window, as a
// table and as JSON, the last N per target.
func TestHistoryShowsCycles(t *testing.T) {
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.3, StartSeconds: 0.3}, "")
	g.mustRun(t, "start")
	g.mustRun(t, "qemu", "freeze")
	g.mustRun(t, "qemu", "thaw")
	g.mustRun(t, "vmware", "freeze")
	g.mustRun(t, "vmware", "thaw")
	g.mustRun(t, "veeam", "post-thaw") // a thaw with no freeze

	out := g.mustRun(t, "history", "--json")
	var cycles []cycle
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var c cycle
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("history --json: %v in %q", err, sc.Text())
		}
		cycles = append(cycles, c)
	}
	if len(cycles) != 3 {
		t.Fatalf("want 3 cycles, got %d:\n%s", len(cycles), out)
	}
	for i, caller := range []string{"qemu", "vmware"} {
		c := cycles[i]
		if c.Target != g.name() || c.Caller != caller || c.Freeze != "stopped" || c.Thaw != "started" ||
			c.Outage == nil || *c.Outage < 0.6 || c.Window == nil || *c.Window <= 0 || *c.Window >= *c.Outage {
			t.Fatalf("cycle %d: %+v", i, c)
		}
	}
	if c := cycles[2]; c.Caller != "veeam" || c.Freeze != "" || c.Thaw != "nothing-to-thaw" || c.Outage != nil {
		t.Fatalf("thaw without freeze: %+v", c)
	}
	if !cycles[0].When.Before(cycles[1].When) {
		t.Fatal("cycles out of order")
	}

	table := g.mustRun(t, "history", "-n", "2", "--target", "domino")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "WHEN") || !strings.Contains(lines[1], "vmware") ||
		!strings.Contains(lines[1], "stopped") || !strings.Contains(lines[1], "started") || !strings.Contains(lines[2], "veeam") {
		t.Fatalf("history -n 2:\n%s", table)
	}
	if none := g.mustRun(t, "history", "--target", "redis"); !strings.Contains(none, "no freeze or thaw") {
		t.Fatalf("history of a target without cycles: %s", none)
	}
	if code, msg := g.run(t, "history", "-n", "0"); code != ExitUsage || !strings.Contains(msg, "-n must be at least 1") {
		t.Fatalf("history -n 0: %d %s", code, msg)
	}
}
