package main

import (
	"strings"
	"testing"
)

// The cycles the log tells besides a clean freeze and thaw: a failed
// freeze, a freeze the watchdog ended, a line cut by a crash, an online
// freeze (logged as domino-online's, shown as domino's).
func TestReadCyclesEdgeCases(t *testing.T) {
	log := `{"level":"error","ts":"2026-01-01T01:00:00Z","msg":"operation failed","target":"domino","op":"freeze","caller":"veeam","took":3.5,"downtime":0,"error":"domino could only be stopped by force"}
{"level":"info","ts":"2026-01-01T02:00:00Z","msg":"operation done","target":"redis","op":"freeze","caller":"vmware","downtime":0,"outcome":"stopped","warnings":["redis had to be killed"]}
{"level":"info","ts":"2026-01-01T02:10:00Z","msg":"recovered","target":"redis","by":"watchdog","outcome":"started","downtime":600.5}
{"level":"info","ts":"2026-01-01T03:00:00Z","msg":"operation do
{"level":"info","ts":"2026-01-01T04:00:00Z","msg":"domino operation done","target":"domino","op":"freeze","caller":"qemu","outcome":"backup-mode"}
{"level":"info","ts":"2026-01-01T04:01:00Z","msg":"domino operation done","target":"domino","op":"thaw","caller":"qemu","outcome":"released","window":42}
`
	cycles, err := readCycles(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if len(cycles) != 3 {
		t.Fatalf("want 3 cycles, got %+v", cycles)
	}
	if c := cycles[0]; c.Freeze != "failed" || c.Thaw != "" || !strings.Contains(c.Error, "by force") {
		t.Errorf("failed freeze: %+v", c)
	}
	if c := cycles[1]; c.Target != "redis" || c.Thaw != "expired: started by watchdog" || c.Outage == nil || *c.Outage != 600.5 || len(c.Warnings) != 1 {
		t.Errorf("expired freeze: %+v", c)
	}
	if c := cycles[2]; c.Target != "domino" || c.Freeze != "backup-mode" || c.Thaw != "released" || c.Window == nil || *c.Window != 42 || c.Outage != nil {
		t.Errorf("online freeze: %+v", c)
	}
	if got := lastCycles(cycles, "", 1); len(got) != 2 || got[0].Caller != "qemu" || got[1].Target != "redis" {
		t.Errorf("last 1 per target: %+v", got)
	}
}

// Every cycle is one row of the table, whatever its error holds, and an
// outage beyond a time.Duration is not shown as a negative one (found by
// FuzzReadCycles: a newline in an error broke the row, a terminal escape
// reached the terminal, 1e300 s of outage printed as -2562047h...).
func TestPrintCyclesOneRowEach(t *testing.T) {
	huge := 1e300
	var out strings.Builder
	printCycles(&out, []cycle{{Target: "domino", Caller: "veeam", Freeze: "failed", Error: "nsd said:\nline two\tand \x1b[2J", Outage: &huge}})
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 || strings.ContainsAny(out.String(), "\t\x1b") || !strings.Contains(lines[1], "error: nsd said: line two and  [2J") {
		t.Fatalf("table:\n%q", out.String())
	}
	if !strings.Contains(lines[1], "1e+300s") {
		t.Fatalf("outage of 1e300 s shown as:\n%s", lines[1])
	}
}
