package metrics

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/state"
)

// FileName is the file quiesce writes in the textfile directory.
const FileName = "quiesce.prom"

// tallyDoc names the Tally in the state directory.
const tallyDoc = "quiesce.metrics"

// Textfile is a freeze.Observer that keeps the Tally in the state
// directory and writes it as FileName in Dir after every operation.
type Textfile struct {
	Dir      string       // node_exporter's textfile collector directory
	Store    *state.Store // where the Tally is kept between runs
	Log      *zap.Logger
	LockWait time.Duration // wait this long for another quiesce updating the metrics; 0: 10s
	// OutageBudget is the configuration's longest outage, shown beside
	// the outage of each target it operates on; 0: none shown.
	OutageBudget time.Duration
}

var _ freeze.Observer = (*Textfile)(nil)

// Observe implements freeze.Observer: monitoring never fails an operation,
// so a metrics file that cannot be written is a warning in the log.
func (w *Textfile) Observe(ev freeze.Event) {
	if err := w.Record(ev); err != nil {
		w.Log.Warn("cannot update the metrics file", zap.String("dir", w.Dir), zap.Error(err))
	}
}

// Record adds ev to the Tally and writes the metrics file. The Tally's
// lock is held throughout, so that two quiesce processes (a thaw and a
// watchdog, two targets) lose no count.
func (w *Textfile) Record(ev freeze.Event) error {
	wait := w.LockWait
	if wait == 0 {
		wait = 10 * time.Second
	}
	lock, err := w.Store.Lock(context.Background(), tallyDoc, "metrics", wait)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	var t Tally
	if _, err := w.Store.LoadDoc(tallyDoc, &t); err != nil {
		w.Log.Warn("metrics counters unreadable; counting from zero", zap.Error(err))
		t = Tally{}
	}
	t.Apply(ev)
	if w.OutageBudget > 0 {
		if t.OutageBudget == nil {
			t.OutageBudget = map[string]float64{}
		}
		t.OutageBudget[ev.Instance] = w.OutageBudget.Seconds()
	}
	if err := w.Store.SaveDoc(tallyDoc, t); err != nil {
		return err
	}
	t.Held, t.Cluster = heldFreezes(w.Store), LoadCluster(w.Store)
	return Write(filepath.Join(w.Dir, FileName), t)
}

// Write writes t to path in the Prometheus text format, atomically: a
// temporary file in the same directory renamed into place (the textfile
// collector reads only *.prom files, never the temporary one).
func Write(path string, t Tally) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("metrics directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing is there
	_, err = tmp.Write(Render(t))
	if err == nil {
		err = tmp.Chmod(0o644) // node_exporter may run as another user; on the open file, never by name
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	return nil
}

// metricHelp declares one metric family: its name, HELP text and labels.
type metricHelp struct {
	name, help string
	labels     []string
}

var counterHelp = []metricHelp{
	{Freezes, "Freezes that succeeded, by outcome (stopped, backup-mode, joined, refreshed, not-running, stood-aside).", []string{"target", "caller", "outcome"}},
	{ForcedStops, "Freezes and recoveries whose stop had to kill the application.", []string{"target", "caller"}},
	{Fallbacks, "Online freezes that failed and stopped the application instead.", []string{"target", "caller"}},
	{WatchdogRestarts, "Times the watchdog started the application (a freeze never thawed, an interrupted run).", []string{"target"}},
	{Failures, "Operations that failed, by operation (freeze, thaw, recover, watchdog).", []string{"target", "caller", "op"}},
	{Snapshots, "Snapshots a caller took of the target, by whether they were quiesced (yes: its thaw ended a freeze that held; no: the freeze failed, or had expired, or the online backup failed).", []string{"target", "caller", "quiesced"}},
	{ClusterRefusals, "Stop-mode freezes the cluster lock refused, by reason (lock-busy, mate-down, etcd-unreachable, etcd-refused, lock-lost).", []string{"target", "cluster", "reason"}},
	{ReplicateFailures, "Mates a replicate after a start could not be asked to catch up with (the thaw warned).", []string{"target", "cluster"}},
}

var gaugeHelp = []metricHelp{
	{"quiesce_last_operation_timestamp_seconds", "When the last operation of its kind by the caller on the target ended (Unix time).", []string{"target", "caller", "op"}},
	{"quiesce_last_operation_success", "Whether the last operation of its kind by the caller on the target succeeded (1) or failed (0).", []string{"target", "caller", "op"}},
	{"quiesce_last_outcome_info", "The outcome of the last operation of its kind by the caller on the target, as a label (always 1).", []string{"target", "caller", "op", "outcome"}},
	{"quiesce_last_outage_seconds", "How long the application was down in its last freeze, from the stop to serving again (0: online, never down).", []string{"target"}},
	{"quiesce_last_freeze_window_seconds", "How long its last freeze held the application frozen, from frozen to the thaw (the snapshot's time).", []string{"target"}},
	{"quiesce_last_snapshot_quiesced", "Whether the caller's last snapshot of the target was quiesced (1) or not (0).", []string{"target", "caller"}},
	{"quiesce_outage_budget_seconds", "The longest outage a freeze of the target should cause ([metrics] outage_budget).", []string{"target"}},
	{"quiesce_freeze_since_timestamp_seconds", "When the freeze in place on the target began (Unix time); no series when none is.", []string{"target"}},
	{"quiesce_freeze_deadline_timestamp_seconds", "When the freeze in place on the target ends if no thaw comes (Unix time): the watchdog ends it then.", []string{"target"}},
	{"quiesce_cluster_etcd_up", "Whether etcd answered at this server's last contact with it (1) or not (0).", []string{"target", "cluster"}},
	{"quiesce_cluster_etcd_checked_timestamp_seconds", "When this server last contacted etcd (Unix time).", []string{"target", "cluster"}},
	{"quiesce_cluster_lock_held_since_timestamp_seconds", "Since when this server holds its cluster's lock (Unix time); 0 when it does not.", []string{"target", "cluster"}},
	{"quiesce_cluster_lock_last_wait_seconds", "How long the last stop-mode freeze waited for the cluster lock.", []string{"target", "cluster"}},
}

// Names are the names of every metric family the file may hold, counters
// first: what a dashboard or an alert can query (scripts/fleet's test
// checks theirs against it).
func Names() []string {
	var out []string
	for _, h := range append(append([]metricHelp(nil), counterHelp...), gaugeHelp...) {
		out = append(out, h.name)
	}
	return out
}

// Render is t in the Prometheus text exposition format (version 0.0.4),
// as client_golang writes it: families by name, each with its HELP and
// TYPE, series ordered by their label values, families without series
// left out. (quiesce runs once per hook call: client_golang's package
// initialisation alone cost more than the rest of a metrics write.)
func Render(t Tally) []byte {
	fams := map[string]*family{}
	for _, c := range counterHelp {
		fams[c.name] = newFamily(c.name, c.help, "counter", c.labels)
	}
	for _, g := range gaugeHelp {
		fams[g.name] = newFamily(g.name, g.help, "gauge", g.labels)
	}
	for _, l := range t.Last {
		fams["quiesce_last_operation_timestamp_seconds"].set(float64(l.Time.UnixNano())/1e9, l.Target, l.Caller, l.Op)
		fams["quiesce_last_operation_success"].set(boolValue(l.Outcome != freeze.OutcomeFailed), l.Target, l.Caller, l.Op)
		fams["quiesce_last_outcome_info"].set(1, l.Target, l.Caller, l.Op, l.Outcome)
		// Counters start at zero for every series that can count, so
		// that increase() sees the first failure.
		fams[Failures].add(0, l.Target, l.Caller, l.Op)
		if l.Op == freeze.OpFreeze {
			fams[ForcedStops].add(0, l.Target, l.Caller)
			fams[Fallbacks].add(0, l.Target, l.Caller)
		}
		fams[WatchdogRestarts].add(0, l.Target)
	}
	for _, c := range t.Counts {
		f, ok := fams[c.Name]
		if !ok || f.typ != "counter" {
			continue // a counter of a later version
		}
		all := map[string]string{"target": c.Target, "caller": c.Caller, "op": c.Op, "outcome": c.Outcome, "quiesced": c.Quiesced}
		vals := make([]string, len(f.labels))
		for i, l := range f.labels {
			vals[i] = all[l]
		}
		f.add(c.Value, vals...)
	}
	for _, s := range t.Snapshot {
		fams["quiesce_last_snapshot_quiesced"].set(boolValue(s.Quiesced), s.Target, s.Caller)
	}
	for target, s := range t.Outage {
		fams["quiesce_last_outage_seconds"].set(s.Seconds, target)
	}
	for target, s := range t.Window {
		fams["quiesce_last_freeze_window_seconds"].set(s.Seconds, target)
	}
	for target, b := range t.OutageBudget {
		fams["quiesce_outage_budget_seconds"].set(b, target)
	}
	for _, h := range t.Held {
		fams["quiesce_freeze_since_timestamp_seconds"].set(unix(h.Since), h.Target)
		fams["quiesce_freeze_deadline_timestamp_seconds"].set(unix(h.Deadline), h.Target)
	}
	renderCluster(fams, t.Cluster)
	names := make([]string, 0, len(fams))
	for n := range fams {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	for _, n := range names {
		fams[n].write(&b)
	}
	return b.Bytes()
}

// family is one metric family being rendered.
type family struct {
	name, help, typ string
	labels          []string // as declared
	order           []int    // label indexes in name order, as the format prints them
	series          map[string]*series
}

type series struct {
	vals []string // in name order
	v    float64
}

func newFamily(name, help, typ string, labels []string) *family {
	f := &family{name: name, help: help, typ: typ, labels: labels, series: map[string]*series{}}
	for i := range labels {
		f.order = append(f.order, i)
	}
	sort.Slice(f.order, func(a, b int) bool { return labels[f.order[a]] < labels[f.order[b]] })
	return f
}

func (f *family) get(vals []string) *series {
	sorted := make([]string, len(vals))
	for i, o := range f.order {
		sorted[i] = vals[o]
	}
	key := strings.Join(sorted, "\xff")
	s, ok := f.series[key]
	if !ok {
		s = &series{vals: sorted}
		f.series[key] = s
	}
	return s
}

func (f *family) set(v float64, vals ...string) { f.get(vals).v = v }
func (f *family) add(v float64, vals ...string) { f.get(vals).v += v }

func (f *family) write(b *bytes.Buffer) {
	if len(f.series) == 0 {
		return
	}
	ss := make([]*series, 0, len(f.series))
	for _, s := range f.series {
		ss = append(ss, s)
	}
	sort.Slice(ss, func(i, j int) bool {
		for k := range ss[i].vals {
			if ss[i].vals[k] != ss[j].vals[k] {
				return ss[i].vals[k] < ss[j].vals[k]
			}
		}
		return false
	})
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", f.name, helpEscaper.Replace(f.help), f.name, f.typ)
	for _, s := range ss {
		b.WriteString(f.name)
		for i, o := range f.order {
			sep := ","
			if i == 0 {
				sep = "{"
			}
			fmt.Fprintf(b, "%s%s=\"%s\"", sep, f.labels[o], valueEscaper.Replace(s.vals[i]))
		}
		if len(f.order) > 0 {
			b.WriteString("}")
		}
		fmt.Fprintf(b, " %s\n", formatFloat(s.v))
	}
}

var (
	helpEscaper  = strings.NewReplacer("\\", "\\\\", "\n", "\\n")
	valueEscaper = strings.NewReplacer("\\", "\\\\", "\n", "\\n", "\"", "\\\"")
)

// formatFloat writes a sample value as the text format does.
func formatFloat(f float64) string {
	switch {
	case f == 1:
		return "1"
	case f == 0:
		return "0"
	case f == -1:
		return "-1"
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, +1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// renderCluster adds the cluster locks' facts: every series of a
// clustered target exists (a counter at 0 before its first count), so
// that increase() sees the first refusal.
func renderCluster(fams map[string]*family, facts []ClusterFacts) {
	for _, c := range facts {
		fams["quiesce_cluster_etcd_up"].set(boolValue(c.EtcdUp), c.Target, c.Cluster)
		if !c.EtcdAt.IsZero() {
			fams["quiesce_cluster_etcd_checked_timestamp_seconds"].set(unix(c.EtcdAt), c.Target, c.Cluster)
		}
		held := 0.0
		if !c.HeldSince.IsZero() {
			held = unix(c.HeldSince)
		}
		fams["quiesce_cluster_lock_held_since_timestamp_seconds"].set(held, c.Target, c.Cluster)
		fams["quiesce_cluster_lock_last_wait_seconds"].set(c.LastWait, c.Target, c.Cluster)
		for _, r := range Refusals() {
			fams[ClusterRefusals].add(c.Refusals[r], c.Target, c.Cluster, r)
		}
		fams[ReplicateFailures].add(c.ReplicateFailures, c.Target, c.Cluster)
	}
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
