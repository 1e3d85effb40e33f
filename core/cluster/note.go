package cluster

import (
	"time"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/metrics"
)

// Note is what a freeze of a clustered server keeps beside its record in
// the state directory: the hold in etcd (its lease) and the drain, so
// that whoever ends the freeze (a thaw, the watchdog, recover) releases
// the lock and clears Server_Restricted.
type Note struct {
	Cluster string `json:"cluster"`
	Mode    string `json:"mode"` // ModeStop or ModeOnline
	// Stage of a stop: StageLocked (the lock is on the freeze's lease),
	// StageDraining (Server_Restricted asked for), StageStopping (the stop
	// may have begun: from here on the stop method settles the server).
	Stage  string `json:"stage"`
	Caller string `json:"caller"`
	Hold   Hold   `json:"hold"`
	// Unlocked: etcd did not answer, and etcd_unreachable = proceed
	// stopped the server without the lock.
	Unlocked   bool `json:"unlocked,omitempty"`
	Restricted bool `json:"restricted,omitempty"` // Server_Restricted was set for the drain
}

// Stages of a stop.
const (
	StageWaiting  = "waiting" // for the lock: nothing is held yet
	StageLocked   = "locked"
	StageDraining = "draining"
	StageStopping = "stopping"
	StageRecorded = "recorded" // an online freeze's record
)

// noteSuffix names the note beside the record (KEY.cluster).
const noteSuffix = "cluster"

func noteName(key string) string { return key + "." + noteSuffix }

func loadNote(r *freeze.Run) (Note, bool) {
	var n Note
	ok, err := r.Store().LoadDoc(noteName(r.Key()), &n)
	return n, ok && err == nil
}

func saveNote(r *freeze.Run, n Note) error { return r.Store().SaveDoc(noteName(r.Key()), n) }

func clearNote(r *freeze.Run) error { return r.Store().Clear(noteName(r.Key())) }

// Status is the cluster part of the freeze in place on s's instance, for
// status: false when there is none.
func Status(s *freeze.Session) (Note, bool) {
	var n Note
	ok, err := s.Doc(noteSuffix, &n)
	return n, ok && err == nil
}

// facts notes what the metrics show of this instance's cluster; a note
// that cannot be written is logged, never an error of the freeze.
func (c *Cluster) facts(r *freeze.Run, change func(*metrics.ClusterFacts)) {
	if err := metrics.NoteCluster(r.Store(), r.Instance().Name, c.cfg.Name, change); err != nil {
		c.log.Warn("cannot note the cluster's metrics", zap.Error(err))
	}
}

// contact notes whether etcd answered.
func (c *Cluster) contact(r *freeze.Run, up bool) {
	now := c.clock.Now()
	c.facts(r, func(f *metrics.ClusterFacts) { f.EtcdUp, f.EtcdAt = up, now })
}

// refused counts a refusal by reason.
func (c *Cluster) refused(r *freeze.Run, reason string) {
	c.facts(r, func(f *metrics.ClusterFacts) {
		if f.Refusals == nil {
			f.Refusals = map[string]float64{}
		}
		f.Refusals[reason]++
	})
}

// held notes since when this server holds the lock (zero: no more) and
// how long it waited.
func (c *Cluster) held(r *freeze.Run, since time.Time, waited time.Duration) {
	c.facts(r, func(f *metrics.ClusterFacts) {
		f.HeldSince = since
		if !since.IsZero() {
			f.LastWait = waited.Seconds()
		}
	})
}
