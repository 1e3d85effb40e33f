package metrics

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/prometheus/common/expfmt"

	"github.com/quiesce/quiesce/core/freeze"
)

// reference renders t with client_golang itself (registry, gather, text
// encoder), as quiesce did before its own writer: the oracle Render is
// held to, byte for byte.
func reference(t *testing.T, tally Tally) []byte {
	t.Helper()
	reg := prometheus.NewRegistry()
	vecs := map[string]any{}
	for _, c := range counterHelp {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: c.name, Help: c.help}, c.labels)
		reg.MustRegister(v)
		vecs[c.name] = v
	}
	for _, g := range gaugeHelp {
		v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: g.name, Help: g.help}, g.labels)
		reg.MustRegister(v)
		vecs[g.name] = v
	}
	gauge := func(name string, v float64, vals ...string) {
		vecs[name].(*prometheus.GaugeVec).WithLabelValues(vals...).Set(v)
	}
	counter := func(name string, v float64, vals ...string) {
		vecs[name].(*prometheus.CounterVec).WithLabelValues(vals...).Add(v)
	}
	for _, l := range tally.Last {
		gauge("quiesce_last_operation_timestamp_seconds", float64(l.Time.UnixNano())/1e9, l.Target, l.Caller, l.Op)
		gauge("quiesce_last_operation_success", boolValue(l.Outcome != freeze.OutcomeFailed), l.Target, l.Caller, l.Op)
		gauge("quiesce_last_outcome_info", 1, l.Target, l.Caller, l.Op, l.Outcome)
		counter(Failures, 0, l.Target, l.Caller, l.Op)
		if l.Op == freeze.OpFreeze {
			counter(ForcedStops, 0, l.Target, l.Caller)
			counter(Fallbacks, 0, l.Target, l.Caller)
		}
		counter(WatchdogRestarts, 0, l.Target)
	}
	for _, c := range tally.Counts {
		all := map[string]string{"target": c.Target, "caller": c.Caller, "op": c.Op, "outcome": c.Outcome, "quiesced": c.Quiesced}
		for _, h := range counterHelp {
			if h.name == c.Name {
				var vals []string
				for _, l := range h.labels {
					vals = append(vals, all[l])
				}
				counter(c.Name, c.Value, vals...)
			}
		}
	}
	for _, s := range tally.Snapshot {
		gauge("quiesce_last_snapshot_quiesced", boolValue(s.Quiesced), s.Target, s.Caller)
	}
	for target, s := range tally.Outage {
		gauge("quiesce_last_outage_seconds", s.Seconds, target)
	}
	for target, s := range tally.Window {
		gauge("quiesce_last_freeze_window_seconds", s.Seconds, target)
	}
	for target, b := range tally.OutageBudget {
		gauge("quiesce_outage_budget_seconds", b, target)
	}
	for _, h := range tally.Held {
		gauge("quiesce_freeze_since_timestamp_seconds", float64(h.Since.UnixNano())/1e9, h.Target)
		gauge("quiesce_freeze_deadline_timestamp_seconds", float64(h.Deadline.UnixNano())/1e9, h.Target)
	}
	for _, c := range tally.Cluster {
		gauge("quiesce_cluster_etcd_up", boolValue(c.EtcdUp), c.Target, c.Cluster)
		if !c.EtcdAt.IsZero() {
			gauge("quiesce_cluster_etcd_checked_timestamp_seconds", float64(c.EtcdAt.UnixNano())/1e9, c.Target, c.Cluster)
		}
		held := 0.0
		if !c.HeldSince.IsZero() {
			held = float64(c.HeldSince.UnixNano()) / 1e9
		}
		gauge("quiesce_cluster_lock_held_since_timestamp_seconds", held, c.Target, c.Cluster)
		gauge("quiesce_cluster_lock_last_wait_seconds", c.LastWait, c.Target, c.Cluster)
		for _, r := range Refusals() {
			counter(ClusterRefusals, c.Refusals[r], c.Target, c.Cluster, r)
		}
		counter(ReplicateFailures, c.ReplicateFailures, c.Target, c.Cluster)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, f := range fams {
		if _, err := expfmt.MetricFamilyToText(&b, f); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func TestRenderIsWhatClientGolangWrites(t *testing.T) {
	at := time.Date(2026, 11, 23, 2, 0, 0, 123456789, time.UTC)
	for name, tally := range map[string]Tally{
		"empty":      {},
		"everything": everything(at),
	} {
		got, want := Render(tally), reference(t, tally)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: Render:\n%s\nclient_golang:\n%s", name, got, want)
		}
		if name == "everything" {
			problems, err := promlint.New(bytes.NewReader(got)).Lint()
			if err != nil || len(problems) > 0 {
				t.Errorf("promlint: %v %+v", err, problems)
			}
		}
	}
}

// everything is a tally with a series of every family.
func everything(at time.Time) Tally {
	return Tally{
		Last: []Last{
			{Target: "domino", Caller: "veeam", Op: freeze.OpFreeze, Outcome: "stopped", Time: at},
			{Target: "domino", Caller: "veeam", Op: freeze.OpThaw, Outcome: freeze.OutcomeFailed, Time: at.Add(time.Minute)},
			{Target: "domino", Caller: "arcserve", Op: freeze.OpFreeze, Outcome: "backup-mode", Time: at.Add(time.Hour)},
			{Target: "redis", Caller: freeze.OpWatchdog, Op: freeze.OpWatchdog, Outcome: "started", Time: at},
			{Target: `we"ird\name`, Caller: "line\nbreak", Op: freeze.OpRecover, Outcome: "released", Time: at},
		},
		Outage: map[string]Span{"domino": {Seconds: 93.25}, "redis": {Seconds: 0}},
		Window: map[string]Span{"domino": {Seconds: 1e-3}, "zz": {Seconds: 12345678.5}},
		Counts: []Count{
			{Name: Freezes, Target: "domino", Caller: "veeam", Outcome: "stopped", Value: 41},
			{Name: Freezes, Target: "domino", Caller: "arcserve", Outcome: "backup-mode", Value: 1},
			{Name: ForcedStops, Target: "domino", Caller: "veeam", Value: 2},
			{Name: Failures, Target: "domino", Caller: "veeam", Op: freeze.OpThaw, Value: 1},
			{Name: WatchdogRestarts, Target: "redis", Value: 3},
			{Name: Snapshots, Target: "domino", Caller: "veeam", Quiesced: "yes", Value: 40},
			{Name: "quiesce_of_a_later_version_total", Target: "domino", Value: 7},
		},
		Snapshot:     []Snap{{Target: "domino", Caller: "veeam", Quiesced: true, Time: at}},
		OutageBudget: map[string]float64{"domino": 600},
		Held:         []Held{{Target: "domino", Since: at, Deadline: at.Add(20 * time.Minute)}},
		Cluster: []ClusterFacts{
			{Target: "domino", Cluster: "mail", EtcdUp: true, EtcdAt: at, HeldSince: at, LastWait: 12.5, Refusals: map[string]float64{RefusedBusy: 2}, ReplicateFailures: 1},
			{Target: "domino2", Cluster: "mail", EtcdAt: at},
		},
	}
}

// Write replaces the file whole and leaves nothing else in the directory.
func TestWriteIsAtomicAndReadable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "textfile")
	path := filepath.Join(dir, FileName)
	tally := Tally{Counts: []Count{{Name: WatchdogRestarts, Target: "domino", Value: 1}}}
	for i := 0; i < 2; i++ {
		if err := Write(path, tally); err != nil {
			t.Fatal(err)
		}
	}
	st, err := os.Stat(path)
	if err != nil || runtime.GOOS != "windows" && st.Mode().Perm() != 0o644 {
		t.Fatalf("%s: %v, mode %v; want 0644 for node_exporter", path, err, st)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the textfile directory holds %d entries, want only %s", len(entries), FileName)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, Render(tally)) {
		t.Errorf("%s holds\n%s", path, b)
	}
}

// Every family Names lists is one Render declares.
func TestNames(t *testing.T) {
	out := string(Render(everything(time.Now())))
	names := Names()
	if len(names) != len(counterHelp)+len(gaugeHelp) {
		t.Fatalf("%d names, %d families", len(names), len(counterHelp)+len(gaugeHelp))
	}
	for _, n := range names {
		if !strings.Contains(out, "# TYPE "+n+" ") {
			t.Errorf("%s is not in the file", n)
		}
	}
}
