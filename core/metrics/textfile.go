package metrics

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
	if err := w.Store.SaveDoc(tallyDoc, t); err != nil {
		return err
	}
	return Write(filepath.Join(w.Dir, FileName), t)
}

// Write writes t to path in the Prometheus text format, atomically: a
// temporary file in the same directory renamed into place (the textfile
// collector reads only *.prom files, never the temporary one).
func Write(path string, t Tally) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("metrics directory: %w", err)
	}
	reg, err := Registry(t)
	if err != nil {
		return err
	}
	if err := prometheus.WriteToTextfile(path, reg); err != nil {
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	return nil
}

var counterHelp = []struct {
	name, help string
	labels     []string
}{
	{Freezes, "Freezes that succeeded, by outcome (stopped, backup-mode, joined, refreshed, not-running, stood-aside).", []string{"target", "caller", "outcome"}},
	{ForcedStops, "Freezes and recoveries whose stop had to kill the application.", []string{"target", "caller"}},
	{Fallbacks, "Online freezes that failed and stopped the application instead.", []string{"target", "caller"}},
	{WatchdogRestarts, "Times the watchdog started the application (a freeze never thawed, an interrupted run).", []string{"target"}},
	{Failures, "Operations that failed, by operation (freeze, thaw, recover, watchdog).", []string{"target", "caller", "op"}},
}

// Registry holds t's metrics, for writing or for a test to gather.
func Registry(t Tally) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	counters := map[string]*prometheus.CounterVec{}
	for _, c := range counterHelp {
		counters[c.name] = prometheus.NewCounterVec(prometheus.CounterOpts{Name: c.name, Help: c.help}, c.labels)
	}
	lastTime := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "quiesce_last_operation_timestamp_seconds",
		Help: "When the last operation of its kind by the caller on the target ended (Unix time)."}, []string{"target", "caller", "op"})
	lastOK := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "quiesce_last_operation_success",
		Help: "Whether the last operation of its kind by the caller on the target succeeded (1) or failed (0)."}, []string{"target", "caller", "op"})
	lastOutcome := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "quiesce_last_outcome_info",
		Help: "The outcome of the last operation of its kind by the caller on the target, as a label (always 1)."}, []string{"target", "caller", "op", "outcome"})
	outage := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "quiesce_last_outage_seconds",
		Help: "How long the application was down in its last freeze, from the stop to serving again (0: online, never down)."}, []string{"target"})
	window := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "quiesce_last_freeze_window_seconds",
		Help: "How long its last freeze held the application frozen, from frozen to the thaw (the snapshot's time)."}, []string{"target"})
	for _, c := range counters {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, c := range []prometheus.Collector{lastTime, lastOK, lastOutcome, outage, window} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, l := range t.Last {
		lastTime.WithLabelValues(l.Target, l.Caller, l.Op).Set(float64(l.Time.UnixNano()) / 1e9)
		lastOK.WithLabelValues(l.Target, l.Caller, l.Op).Set(boolValue(l.Outcome != freeze.OutcomeFailed))
		lastOutcome.WithLabelValues(l.Target, l.Caller, l.Op, l.Outcome).Set(1)
		// Counters start at zero for every series that can count, so
		// that increase() sees the first failure.
		counters[Failures].WithLabelValues(l.Target, l.Caller, l.Op)
		if l.Op == freeze.OpFreeze {
			counters[ForcedStops].WithLabelValues(l.Target, l.Caller)
			counters[Fallbacks].WithLabelValues(l.Target, l.Caller)
		}
		counters[WatchdogRestarts].WithLabelValues(l.Target)
	}
	for _, c := range t.Counts {
		vec, ok := counters[c.Name]
		if !ok {
			continue // a counter of a later version
		}
		vec.With(labels(c)).Add(c.Value)
	}
	for target, s := range t.Outage {
		outage.WithLabelValues(target).Set(s.Seconds)
	}
	for target, s := range t.Window {
		window.WithLabelValues(target).Set(s.Seconds)
	}
	return reg, nil
}

// labels are c's labels as its counter declares them.
func labels(c Count) prometheus.Labels {
	all := map[string]string{"target": c.Target, "caller": c.Caller, "op": c.Op, "outcome": c.Outcome}
	out := prometheus.Labels{}
	for _, h := range counterHelp {
		if h.name != c.Name {
			continue
		}
		for _, l := range h.labels {
			out[l] = all[l]
		}
	}
	return out
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
