package metrics

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"go.uber.org/zap/zaptest"

	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/state"
)

// What the file shows besides the tally: the freezes in place (from their
// records), the configured outage budget and the cluster lock's facts.
func TestTextfileShowsFreezesInPlaceAndTheCluster(t *testing.T) {
	store, err := state.Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "textfile")
	held := state.Record{Instance: "domino-x-1", Name: "domino /x", Holders: []state.Holder{{Caller: "veeam", Since: t0}}, Owed: true,
		Since: t0, Deadline: t0.Add(15 * time.Minute)}
	if err := store.Save(held); err != nil {
		t.Fatal(err)
	}
	if err := store.Save(state.Record{Instance: "redis-1", Name: "redis"}); err != nil { // nothing in place
		t.Fatal(err)
	}
	if err := NoteCluster(store, "domino /x", "mail", func(f *ClusterFacts) {
		f.EtcdUp, f.EtcdAt, f.HeldSince, f.LastWait = true, t0, t0, 4.5
	}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // counts add up across notes
		if err := NoteCluster(store, "domino /x", "mail", func(f *ClusterFacts) {
			if f.Refusals == nil {
				f.Refusals = map[string]float64{}
			}
			f.Refusals[RefusedBusy]++
		}); err != nil {
			t.Fatal(err)
		}
	}
	w := &Textfile{Dir: dir, Store: store, Log: zaptest.NewLogger(t), OutageBudget: 10 * time.Minute}
	if err := w.Record(freeze.Event{Op: freeze.OpFreeze, Instance: "domino /x", Caller: "veeam", Outcome: "stopped", Time: t0}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	fams, err := new(expfmt.TextParser).TextToMetricFamilies(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	value := func(name string, labels ...string) (float64, bool) {
		f, ok := fams[name]
		if !ok {
			return 0, false
		}
	next:
		for _, m := range f.Metric {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, l := range m.Label {
					found = found || l.GetName() == labels[i] && l.GetValue() == labels[i+1]
				}
				if !found {
					continue next
				}
			}
			if m.Gauge != nil {
				return m.Gauge.GetValue(), true
			}
			return m.Counter.GetValue(), true
		}
		return 0, false
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"quiesce_freeze_since_timestamp_seconds", []string{"target", "domino /x"}, float64(t0.Unix())},
		{"quiesce_freeze_deadline_timestamp_seconds", []string{"target", "domino /x"}, float64(t0.Add(15 * time.Minute).Unix())},
		{"quiesce_outage_budget_seconds", []string{"target", "domino /x"}, 600},
		{"quiesce_cluster_etcd_up", []string{"cluster", "mail"}, 1},
		{"quiesce_cluster_lock_held_since_timestamp_seconds", []string{"cluster", "mail"}, float64(t0.Unix())},
		{"quiesce_cluster_lock_last_wait_seconds", []string{"cluster", "mail"}, 4.5},
		{ClusterRefusals, []string{"reason", RefusedBusy}, 2},
		{ClusterRefusals, []string{"reason", RefusedMateDown}, 0},
	} {
		if got, ok := value(c.name, c.labels...); !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	if _, ok := value("quiesce_freeze_since_timestamp_seconds", "target", "redis"); ok {
		t.Error("a record with nothing in place shows as a freeze")
	}
}
