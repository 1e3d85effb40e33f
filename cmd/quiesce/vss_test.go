//go:build linux

package main

import (
	"os"
	"strings"
	"testing"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// Domino 12.0.2+ on Windows ships a VSS writer (the backupvss task): for
// the callers named in vss_stand_aside, and only while notes.ini loads the
// task, the hook leaves Domino running and says why; check says it too.
func TestVSSWriterStandAside(t *testing.T) {
	g := newGuest(t, simtest.Options{Tasks: "update,backupvss", ShutdownSeconds: 0.2}, "")
	g.addDominoKey(t, "vss_stand_aside = veeam")
	g.mustRun(t, "start")

	code, out := g.run(t, "veeam", "pre-freeze")
	if code != 0 || !strings.Contains(out, "stands aside for veeam") || !g.sim.Serving() {
		t.Fatalf("veeam pre-freeze with the VSS writer: %d %q, serving %v", code, out, g.sim.Serving())
	}
	if code, out = g.run(t, "veeam", "post-thaw"); code != 0 || !strings.Contains(out, "stands aside") {
		t.Fatalf("veeam post-thaw: %d %q", code, out)
	}
	// VMware is not named: it may quiesce without VSS, so Domino is stopped.
	if code, out = g.run(t, "vmware", "freeze"); code != 0 || g.sim.Serving() {
		t.Fatalf("vmware freeze: %d %q", code, out)
	}
	if code, out = g.run(t, "vmware", "thaw"); code != 0 || !g.sim.Serving() {
		t.Fatalf("vmware thaw: %d %q", code, out)
	}
	_, out = g.run(t, "check", "--all")
	if !strings.Contains(out, "stands aside for veeam") || !strings.Contains(out, "set vss_stand_aside = vmware") {
		t.Fatalf("check does not say what the VSS writer changes:\n%s", out)
	}

	// Without backupvss in ServerTasks the setting changes nothing, and says so.
	g.sim.SetIni("ServerTasks", "update")
	if code, out = g.run(t, "veeam", "pre-freeze"); code != 0 || g.sim.Serving() {
		t.Fatalf("veeam pre-freeze without the VSS writer must stop Domino: %d %q", code, out)
	}
	if code, out = g.run(t, "veeam", "post-thaw"); code != 0 || !g.sim.Serving() {
		t.Fatalf("veeam post-thaw: %d %q", code, out)
	}
	if _, out = g.run(t, "check", "--all"); !strings.Contains(out, "does not load backupvss") {
		t.Fatalf("check does not warn that the writer is missing:\n%s", out)
	}
}

// addDominoKey adds a line to the [domino] section of the guest's configuration.
func (g *guest) addDominoKey(t *testing.T, line string) {
	t.Helper()
	b, err := os.ReadFile(g.cfg)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(string(b), "[domino]\n", "[domino]\n"+line+"\n", 1)
	if err := os.WriteFile(g.cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
