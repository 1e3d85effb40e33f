// Package metrics turns the freeze engine's operations into Prometheus
// metrics for node_exporter's textfile collector. quiesce runs as one
// short process per hook call, so what the metrics count is kept in the
// state directory between runs (a Tally) and the whole file is written
// again after every operation.
package metrics

import (
	"errors"
	"time"

	"github.com/quiesce/quiesce/core/freeze"
)

// Version of the Tally format.
const Version = 1

// Last is the last operation of one kind by one caller on one instance
// (its label is "target": "instance" is Prometheus's own).
type Last struct {
	Target  string    `json:"target"`
	Caller  string    `json:"caller"`
	Op      string    `json:"op"`
	Outcome string    `json:"outcome"`
	Time    time.Time `json:"time"`
}

// Span is the last measured duration of a target.
type Span struct {
	Seconds float64   `json:"seconds"`
	At      time.Time `json:"at"`
}

// Count is one counter's value.
type Count struct {
	Name    string `json:"name"` // a counter named in counterHelp
	Target  string `json:"target"`
	Caller  string `json:"caller,omitempty"`
	Op      string `json:"op,omitempty"`
	Outcome string `json:"outcome,omitempty"`
	// Quiesced ("yes", "no"): of Snapshots, whether the snapshot was.
	Quiesced string  `json:"quiesced,omitempty"`
	Value    float64 `json:"value"`
}

func (c Count) key() Count { c.Value = 0; return c }

// Tally is everything the metrics file shows, kept across runs.
type Tally struct {
	Version int             `json:"version"`
	Last    []Last          `json:"last"`
	Outage  map[string]Span `json:"outage"` // by target
	Window  map[string]Span `json:"window"` // by target
	Counts  []Count         `json:"counts"`
	// Snapshot is whether each caller's last snapshot of each target was
	// quiesced (see quiesced).
	Snapshot []Snap `json:"snapshot,omitempty"`
	// OutageBudget is the longest outage each target's configuration
	// allows ([metrics] outage_budget), in seconds.
	OutageBudget map[string]float64 `json:"outage_budget,omitempty"`
	// Held are the freezes in place, and Cluster the cluster locks'
	// facts: read from the state directory for each write, not kept.
	Held    []Held         `json:"-"`
	Cluster []ClusterFacts `json:"-"`
}

// Snap is whether a caller's last snapshot of a target was quiesced.
type Snap struct {
	Target   string    `json:"target"`
	Caller   string    `json:"caller"`
	Quiesced bool      `json:"quiesced"`
	Time     time.Time `json:"time"`
}

// Counters.
const (
	Freezes          = "quiesce_freezes_total"
	ForcedStops      = "quiesce_forced_stops_total"
	Fallbacks        = "quiesce_fallbacks_total"
	WatchdogRestarts = "quiesce_watchdog_restarts_total"
	Failures         = "quiesce_failures_total"
	Snapshots        = "quiesce_snapshots_total"
	// ClusterRefusals and ReplicateFailures come from the cluster lock's
	// facts (cluster.go), not from the tally.
	ClusterRefusals   = "quiesce_cluster_refusals_total"
	ReplicateFailures = "quiesce_cluster_replicate_failures_total"
)

// Apply adds one operation to the tally.
func (t *Tally) Apply(ev freeze.Event) {
	t.Version = Version
	t.setLast(Last{Target: ev.Instance, Caller: ev.Caller, Op: ev.Op, Outcome: ev.Outcome, Time: ev.Time})
	if ev.Failed() {
		t.add(Count{Name: Failures, Target: ev.Instance, Caller: ev.Caller, Op: ev.Op})
	} else if ev.Op == freeze.OpFreeze {
		t.add(Count{Name: Freezes, Target: ev.Instance, Caller: ev.Caller, Outcome: ev.Outcome})
	}
	if ev.Forced {
		t.add(Count{Name: ForcedStops, Target: ev.Instance, Caller: ev.Caller})
	}
	if ev.Fallback {
		t.add(Count{Name: Fallbacks, Target: ev.Instance, Caller: ev.Caller})
	}
	if ev.Restart {
		t.add(Count{Name: WatchdogRestarts, Target: ev.Instance})
	}
	if out, ok := outage(ev); ok {
		t.Outage = setSpan(t.Outage, ev.Instance, out, ev.Time)
	}
	if ev.Window > 0 {
		t.Window = setSpan(t.Window, ev.Instance, ev.Window, ev.Time)
	}
	if q, ok := quiesced(ev); ok {
		t.add(Count{Name: Snapshots, Target: ev.Instance, Caller: ev.Caller, Quiesced: map[bool]string{true: "yes", false: "no"}[q]})
		t.setSnap(Snap{Target: ev.Instance, Caller: ev.Caller, Quiesced: q, Time: ev.Time})
	}
}

// quiesced says, for an operation that ends a caller's snapshot, whether
// that snapshot was quiesced: a thaw that ended its hold says yes (a
// failed start after it too: the snapshot was taken while the application
// was stopped), unless its error says the snapshot is not
// (freeze.ErrNotQuiesced: the freeze had expired, the online backup
// failed); a failed freeze says no (a caller may take its snapshot
// anyway). ok is false for the rest (a thaw with nothing to thaw, a
// recovery).
func quiesced(ev freeze.Event) (q, ok bool) {
	switch {
	case ev.Op == freeze.OpFreeze && ev.Failed():
		return false, true
	case ev.Op != freeze.OpThaw:
		return false, false
	case ev.Failed():
		return !errors.Is(ev.Err, freeze.ErrNotQuiesced), true
	case ev.Outcome == freeze.NothingToThaw.String():
		return false, false
	}
	return true, true
}

func (t *Tally) setSnap(s Snap) {
	for i, old := range t.Snapshot {
		if old.Target == s.Target && old.Caller == s.Caller {
			t.Snapshot[i] = s
			return
		}
	}
	t.Snapshot = append(t.Snapshot, s)
}

// outage is how long the application was down, when ev ended a freeze:
// a start after a stop, or the end of an online freeze (no outage at all).
func outage(ev freeze.Event) (time.Duration, bool) {
	switch {
	case ev.Outage > 0: // a start after a stop, or a failed freeze that stopped the application and started it again
		return ev.Outage, true
	case ev.Outcome == freeze.Released.String():
		return 0, true
	}
	return 0, false
}

func setSpan(m map[string]Span, target string, d time.Duration, at time.Time) map[string]Span {
	if m == nil {
		m = map[string]Span{}
	}
	m[target] = Span{Seconds: d.Seconds(), At: at}
	return m
}

func (t *Tally) setLast(l Last) {
	for i, old := range t.Last {
		if old.Target == l.Target && old.Caller == l.Caller && old.Op == l.Op {
			t.Last[i] = l
			return
		}
	}
	t.Last = append(t.Last, l)
}

func (t *Tally) add(c Count) {
	for i, old := range t.Counts {
		if old.key() == c.key() {
			t.Counts[i].Value++
			return
		}
	}
	c.Value = 1
	t.Counts = append(t.Counts, c)
}

// Value returns a counter's value (zero when it never counted).
func (t *Tally) Value(c Count) float64 {
	for _, old := range t.Counts {
		if old.key() == c.key() {
			return old.Value
		}
	}
	return 0
}
