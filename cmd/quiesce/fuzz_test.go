package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// Fuzz target of the history log reader (quiesce history). Seeds: log
// lines as the freeze engines and recovery write them, and testdata/fuzz/.
// "make fuzz" fuzzes it longer.

const historySeed = `{"level":"error","ts":"2026-01-01T01:00:00Z","msg":"operation failed","target":"domino","op":"freeze","caller":"veeam","took":3.5,"downtime":0,"error":"domino could only be stopped by force"}
{"level":"info","ts":"2026-01-01T02:00:00Z","msg":"operation done","target":"redis","op":"freeze","caller":"vmware","downtime":0,"outcome":"stopped","warnings":["redis had to be killed"]}
{"level":"info","ts":"2026-01-01T02:10:00Z","msg":"recovered","target":"redis","by":"watchdog","outcome":"started","downtime":600.5}
{"level":"info","ts":"2026-01-01T03:00:00Z","msg":"operation do
{"level":"info","ts":"2026-01-01T04:00:00Z","msg":"domino operation done","target":"domino-online","op":"freeze","caller":"qemu","outcome":"backup-mode"}
{"level":"info","ts":"2026-01-01T04:00:30Z","msg":"domino operation done","target":"domino","op":"freeze","caller":"qemu","outcome":"joined","warnings":["joined"]}
{"level":"info","ts":"2026-01-01T04:01:00Z","msg":"domino operation done","target":"domino","op":"thaw","caller":"qemu","outcome":"released","window":42}
{"level":"info","ts":"2026-01-01T05:00:00Z","msg":"operation done","target":"domino","op":"thaw","caller":"veeam","outcome":"nothing-to-thaw"}
{"level":"info","ts":"2026-01-01T06:00:00Z","msg":"recovered","target":"domino","by":"quiesce recover","outcome":"nothing-to-thaw"}
`

// FuzzReadCycles: any log reads; each cycle comes from a log line (of an
// operation on a target), with a positive outage and window if any; every
// cycle prints as one line of the table and as JSON; the last N per
// target are at most N, ordered by target, then time.
func FuzzReadCycles(f *testing.F) {
	f.Add([]byte(historySeed))
	for _, l := range strings.SplitAfter(historySeed, "\n") {
		f.Add([]byte(l))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cycles, err := readCycles(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err) // only a line over 4 MiB, longer than any input here
		}
		if n := bytes.Count(data, []byte("\n")) + 1; len(cycles) > n {
			t.Fatalf("%d cycles from %d lines", len(cycles), n)
		}
		for _, c := range cycles {
			if c.Target == "" || c.Target == "domino-online" {
				t.Fatalf("cycle of target %q", c.Target)
			}
			if c.Outage != nil && *c.Outage <= 0 || c.Window != nil && *c.Window <= 0 {
				t.Fatalf("outage %v window %v", c.Outage, c.Window)
			}
			if c.Outage != nil && strings.HasPrefix(seconds(c.Outage), "-") || c.Window != nil && strings.HasPrefix(seconds(c.Window), "-") {
				t.Fatalf("a positive time shown as %s / %s", seconds(c.Outage), seconds(c.Window))
			}
			if _, err := json.Marshal(c); err != nil {
				t.Fatalf("history --json: %v", err)
			}
		}
		var table bytes.Buffer
		printCycles(&table, cycles)
		if lines := strings.Count(table.String(), "\n"); len(cycles) > 0 && lines != len(cycles)+1 {
			t.Fatalf("%d cycles printed as %d lines:\n%s", len(cycles), lines, table.String())
		}
		last := lastCycles(cycles, "", 2)
		per := map[string]int{}
		for i, c := range last {
			per[c.Target]++
			if per[c.Target] > 2 {
				t.Fatalf("more than 2 cycles of %s", c.Target)
			}
			if i > 0 && (last[i-1].Target > c.Target || last[i-1].Target == c.Target && c.When.Before(last[i-1].When)) {
				t.Fatalf("cycles %d and %d out of order", i-1, i)
			}
		}
	})
}
