package metrics

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"go.uber.org/zap/zaptest"

	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/state"
)

var t0 = time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)

// What each kind of operation counts, kept across Textfile writers (one
// per quiesce process) through the state directory.
func TestTallyCountsAcrossRuns(t *testing.T) {
	store, err := state.Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "textfile")
	run := func(ev freeze.Event) {
		w := &Textfile{Dir: dir, Store: store, Log: zaptest.NewLogger(t)} // a new process
		if err := w.Record(ev); err != nil {
			t.Fatal(err)
		}
	}
	run(freeze.Event{Op: freeze.OpFreeze, Instance: "domino", Caller: "veeam", Outcome: "stopped", Time: t0, Forced: true, Fallback: true})
	run(freeze.Event{Op: freeze.OpThaw, Instance: "domino", Caller: "veeam", Outcome: "started", Time: t0.Add(time.Minute), Outage: 90 * time.Second, Window: 30 * time.Second})
	run(freeze.Event{Op: freeze.OpFreeze, Instance: "domino", Caller: "veeam", Outcome: freeze.OutcomeFailed, Err: errors.New("x"), Time: t0.Add(time.Hour)})
	run(freeze.Event{Op: freeze.OpWatchdog, Instance: "redis", Caller: freeze.OpWatchdog, Outcome: "started", Time: t0, Restart: true, Outage: time.Hour})
	run(freeze.Event{Op: freeze.OpThaw, Instance: "domino", Caller: "qemu", Outcome: "released", Time: t0.Add(2 * time.Hour), Window: 20 * time.Second})

	var tally Tally
	if _, err := store.LoadDoc(tallyDoc, &tally); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		c    Count
		want float64
	}{
		{Count{Name: Freezes, Target: "domino", Caller: "veeam", Outcome: "stopped"}, 1},
		{Count{Name: ForcedStops, Target: "domino", Caller: "veeam"}, 1},
		{Count{Name: Fallbacks, Target: "domino", Caller: "veeam"}, 1},
		{Count{Name: Failures, Target: "domino", Caller: "veeam", Op: freeze.OpFreeze}, 1},
		{Count{Name: WatchdogRestarts, Target: "redis"}, 1},
		{Count{Name: Freezes, Target: "domino", Caller: "veeam", Outcome: freeze.OutcomeFailed}, 0},
	} {
		if got := tally.Value(c.c); got != c.want {
			t.Errorf("%+v = %v, want %v", c.c, got, c.want)
		}
	}
	// The online freeze's end: no outage at all, its own window.
	if tally.Outage["domino"].Seconds != 0 || tally.Window["domino"].Seconds != 20 || tally.Outage["redis"].Seconds != 3600 {
		t.Errorf("outage %+v window %+v", tally.Outage, tally.Window)
	}
	fams, err := new(expfmt.TextParser).TextToMetricFamilies(bytes.NewReader(Render(tally)))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range fams["quiesce_last_operation_success"].GetMetric() {
		var ls []string
		for _, l := range m.GetLabel() {
			ls = append(ls, l.GetName()+"="+l.GetValue())
		}
		got = append(got, fmt.Sprintf("%s %v", strings.Join(ls, ","), m.GetGauge().GetValue()))
	}
	want := []string{"caller=qemu,op=thaw,target=domino 1", "caller=veeam,op=freeze,target=domino 0",
		"caller=veeam,op=thaw,target=domino 1", "caller=watchdog,op=watchdog,target=redis 1"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("quiesce_last_operation_success:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// What the metrics add to each operation: lock, read and write the tally
// (synced), write the textfile.
func BenchmarkRecord(b *testing.B) {
	store, err := state.Open(filepath.Join(b.TempDir(), "state"))
	if err != nil {
		b.Fatal(err)
	}
	w := &Textfile{Dir: b.TempDir(), Store: store, Log: zaptest.NewLogger(b)}
	for i := 0; i < b.N; i++ {
		ev := freeze.Event{Op: freeze.OpThaw, Instance: "domino", Caller: "vmware", Outcome: "started", Time: t0, Outage: time.Minute, Window: time.Second}
		if err := w.Record(ev); err != nil {
			b.Fatal(err)
		}
	}
}

// Per snapshot, whether it was quiesced: a thaw that ended its hold says
// yes (a failed start after it too); a late thaw, an online backup that
// failed, or a failed freeze say no; a thaw with nothing to thaw says
// nothing.
func TestTallyCountsQuiescedSnapshots(t *testing.T) {
	var tally Tally
	late := &freeze.LateThawError{Caller: "vmware", ExpiredAt: t0}
	online := freeze.NotQuiesced(errors.New("Domino Backup ended without completing: this snapshot is not restorable"))
	for _, ev := range []freeze.Event{
		{Op: freeze.OpFreeze, Instance: "domino", Caller: "veeam", Outcome: "backup-mode", Time: t0},
		{Op: freeze.OpThaw, Instance: "domino", Caller: "veeam", Outcome: "released", Time: t0},
		{Op: freeze.OpThaw, Instance: "domino", Caller: "veeam", Outcome: "still-held", Time: t0},
		{Op: freeze.OpThaw, Instance: "domino", Caller: "qemu", Outcome: freeze.OutcomeFailed, Err: &freeze.ThawError{Cause: errors.New("start failed")}, Time: t0},
		{Op: freeze.OpThaw, Instance: "domino", Caller: "vmware", Outcome: freeze.OutcomeFailed, Err: late, Time: t0},
		{Op: freeze.OpThaw, Instance: "domino", Caller: "vmware", Outcome: freeze.OutcomeFailed, Err: online, Time: t0},
		{Op: freeze.OpFreeze, Instance: "domino", Caller: "arcserve", Outcome: freeze.OutcomeFailed, Err: errors.New("x"), Time: t0},
		{Op: freeze.OpThaw, Instance: "domino", Caller: "arcserve", Outcome: "nothing-to-thaw", Time: t0},
	} {
		tally.Apply(ev)
	}
	for _, c := range []struct {
		c    Count
		want float64
	}{
		{Count{Name: Snapshots, Target: "domino", Caller: "veeam", Quiesced: "yes"}, 2},
		{Count{Name: Snapshots, Target: "domino", Caller: "qemu", Quiesced: "yes"}, 1},
		{Count{Name: Snapshots, Target: "domino", Caller: "vmware", Quiesced: "no"}, 2},
		{Count{Name: Snapshots, Target: "domino", Caller: "arcserve", Quiesced: "no"}, 1},
		{Count{Name: Snapshots, Target: "domino", Caller: "arcserve", Quiesced: "yes"}, 0},
	} {
		if got := tally.Value(c.c); got != c.want {
			t.Errorf("%+v = %v, want %v", c.c, got, c.want)
		}
	}
	text := string(Render(tally))
	for _, want := range []string{
		`quiesce_last_snapshot_quiesced{caller="veeam",target="domino"} 1`,
		`quiesce_last_snapshot_quiesced{caller="vmware",target="domino"} 0`,
		`quiesce_last_snapshot_quiesced{caller="arcserve",target="domino"} 0`,
		`quiesce_snapshots_total{caller="vmware",quiesced="no",target="domino"} 2`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %s in:\n%s", want, text)
		}
	}
	if _, err := new(expfmt.TextParser).TextToMetricFamilies(strings.NewReader(text)); err != nil {
		t.Fatalf("not the text format: %v", err)
	}
}
