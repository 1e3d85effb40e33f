package metrics

import (
	"context"
	"time"

	"github.com/quiesce/quiesce/core/state"
)

// The cluster lock (core/cluster) leaves what the metrics show of it in a
// document of its own in the state directory: whether etcd answered, since
// when this server holds the lock, how long it waited, why freezes were
// refused. The metrics file shows it at its next write (after every
// operation), with the freezes in place read from their records.

// clusterDoc names the document.
const clusterDoc = "quiesce.cluster"

// Why the cluster lock refused a freeze (the label reason of
// quiesce_cluster_refusals_total).
const (
	RefusedBusy        = "lock-busy"        // a mate held the lock until the caller's budget ran out
	RefusedMateDown    = "mate-down"        // a mate did not answer on NRPC, or was frozen
	RefusedUnreachable = "etcd-unreachable" // etcd did not answer (etcd_unreachable = fail)
	RefusedLost        = "lock-lost"        // the lock's key vanished while it was being taken
	RefusedEtcd        = "etcd-refused"     // etcd answered with an error (a permission denied)
)

// Refusals are every reason, in the order the metrics file shows them.
func Refusals() []string {
	return []string{RefusedBusy, RefusedMateDown, RefusedUnreachable, RefusedEtcd, RefusedLost}
}

// ClusterFacts is one instance's cluster, as the metrics show it.
type ClusterFacts struct {
	Target  string    `json:"target"`
	Cluster string    `json:"cluster"`
	EtcdUp  bool      `json:"etcd_up"`
	EtcdAt  time.Time `json:"etcd_at"` // when etcd was last contacted (whether it answered)
	// HeldSince is when this server took the lock; zero when it does not
	// hold it.
	HeldSince         time.Time          `json:"held_since,omitempty"`
	LastWait          float64            `json:"last_wait_seconds"`
	Refusals          map[string]float64 `json:"refusals,omitempty"`
	ReplicateFailures float64            `json:"replicate_failures,omitempty"`
}

type clusterFile struct {
	Version int            `json:"version"`
	Facts   []ClusterFacts `json:"facts"`
}

// NoteCluster changes the facts of target's cluster, under the
// document's lock (another quiesce may be noting its own).
func NoteCluster(store *state.Store, target, cluster string, change func(*ClusterFacts)) error {
	lock, err := store.Lock(context.Background(), clusterDoc, "cluster metrics", 10*time.Second)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	var f clusterFile
	if _, err := store.LoadDoc(clusterDoc, &f); err != nil {
		f = clusterFile{} // unreadable: counting from zero, as the tally does
	}
	f.Version = Version
	i := -1
	for j, c := range f.Facts {
		if c.Target == target {
			i = j
		}
	}
	if i < 0 {
		f.Facts = append(f.Facts, ClusterFacts{Target: target})
		i = len(f.Facts) - 1
	}
	f.Facts[i].Cluster = cluster
	change(&f.Facts[i])
	return store.SaveDoc(clusterDoc, f)
}

// LoadCluster reads every instance's cluster facts (none when there are
// none, or they are unreadable).
func LoadCluster(store *state.Store) []ClusterFacts {
	var f clusterFile
	if ok, err := store.LoadDoc(clusterDoc, &f); !ok || err != nil {
		return nil
	}
	return f.Facts
}

// Held is a freeze in place, from its record: when it began and when its
// deadline is.
type Held struct {
	Target   string
	Since    time.Time
	Deadline time.Time
}

// heldFreezes reads the freezes in place from the store's records.
func heldFreezes(store *state.Store) []Held {
	recs, err := store.Records()
	if err != nil {
		return nil
	}
	var out []Held
	for _, r := range recs {
		if r.Held() && r.Name != "" && !r.Deadline.IsZero() {
			out = append(out, Held{Target: r.Name, Since: r.Since, Deadline: r.Deadline})
		}
	}
	return out
}
