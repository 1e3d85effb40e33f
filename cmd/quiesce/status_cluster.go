package main

import (
	"fmt"
	"time"

	"github.com/quiesce/quiesce/core/cluster"
	"github.com/quiesce/quiesce/core/freeze"
)

// clusterView is what status shows of a clustered server's freeze: the
// cluster's lock it holds (a stop), or its record (an online freeze).
type clusterView struct {
	Cluster    string     `json:"cluster"`
	Mode       string     `json:"mode"`  // stop or online
	Stage      string     `json:"stage"` // waiting, locked, draining, stopping, recorded
	Lease      string     `json:"lease,omitempty"`
	Until      *time.Time `json:"lease_until,omitempty"` // the lock (or record) ends with its lease then at the latest
	Unlocked   bool       `json:"without_lock,omitempty"`
	Restricted bool       `json:"server_restricted,omitempty"`
}

// clusterStatus is s's cluster part of the freeze in place; nil when
// there is none.
func clusterStatus(s *freeze.Session) *clusterView {
	n, ok := cluster.Status(s)
	if !ok {
		return nil
	}
	v := &clusterView{Cluster: n.Cluster, Mode: n.Mode, Stage: n.Stage, Unlocked: n.Unlocked, Restricted: n.Restricted}
	if n.Hold.Lease != 0 {
		v.Lease = fmt.Sprintf("%016x", n.Hold.Lease)
	}
	if !n.Hold.Until.IsZero() {
		v.Until = &n.Hold.Until
	}
	return v
}

// words says it in one line.
func (v *clusterView) words() string {
	until := ""
	if v.Until != nil {
		until = " (its lease ends by " + v.Until.Local().Format(time.DateTime) + " at the latest)"
	}
	drain := ""
	if v.Restricted {
		drain = "; Server_Restricted was set for the drain, and is cleared once the server serves again"
	}
	switch {
	case v.Mode == cluster.ModeOnline:
		return fmt.Sprintf("cluster %s: recorded in etcd as frozen online, no lock taken%s", v.Cluster, until)
	case v.Unlocked:
		return fmt.Sprintf("cluster %s: stopped WITHOUT the cluster lock (etcd did not answer; etcd_unreachable = proceed)%s", v.Cluster, drain)
	case v.Stage == cluster.StageWaiting:
		return fmt.Sprintf("cluster %s: waiting for the cluster lock (nothing stopped yet)", v.Cluster)
	}
	return fmt.Sprintf("cluster %s: this server holds the cluster lock%s%s", v.Cluster, until, drain)
}
