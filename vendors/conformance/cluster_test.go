//go:build linux

package conformance

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/nrpcwatch"
	"github.com/quiesce/quiesce/core/cluster/etcdtest"
)

// The cluster lock (issue 23, docs/cluster.md) against a real etcd and
// simulated Domino servers as the cluster's mates: callers that freeze
// mates at the same moment never have two of them down at once (their
// own timelines prove it), a client that fails over as Domino's do
// always finds a mate that serves, and every snapshot is consistent.

// mateCycle is one caller's freeze, snapshot and thaw of a mate.
type mateCycle struct {
	m                 *mate
	caller            string
	freeze, thaw      string
	hold              time.Duration // between the snapshot and the thaw
	code, thawCode    int
	out, thawOut      string
	took              time.Duration // the freeze
	consistent        bool
	began, frozenAt   time.Time
	snapshotProblems  string
	thawBegan, thawed time.Time
}

func newCycle(m *mate, caller string, hold time.Duration) *mateCycle {
	c := &mateCycle{m: m, caller: caller, hold: hold}
	for _, op := range callerOps {
		if op.name == caller {
			c.freeze, c.thaw = op.freeze, op.thaw
		}
	}
	return c
}

// run freezes, snapshots a successful freeze, holds, and thaws.
func (c *mateCycle) run() {
	if c.freezeNow() {
		time.Sleep(c.hold)
		c.thawNow()
	}
}

// freezeNow freezes and snapshots; false when the freeze failed.
func (c *mateCycle) freezeNow() bool {
	c.began = time.Now()
	c.code, c.out = c.m.run(c.caller, c.freeze)
	c.frozenAt = time.Now()
	c.took = c.frozenAt.Sub(c.began)
	if c.code != 0 {
		return false
	}
	rep := c.m.sim.Verify(c.m.sim.Snapshot())
	c.consistent = rep.Consistent()
	if !c.consistent {
		c.snapshotProblems = fmt.Sprintf("%+v", rep)
	}
	return true
}

func (c *mateCycle) thawNow() {
	c.thawBegan = time.Now()
	c.thawCode, c.thawOut = c.m.run(c.caller, c.thaw)
	c.thawed = time.Now()
}

// all runs the cycles at the same moment and waits for them.
func all(cs ...*mateCycle) {
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func(c *mateCycle) { defer wg.Done(); c.run() }(c)
	}
	wg.Wait()
}

// judge fails the test unless every cycle froze, took a consistent
// snapshot and thawed, at most one mate was down at any moment, and the
// client always found a mate that served.
func (cr *clusterRig) judge(t *testing.T, cs []*mateCycle, n nrpcwatch.Counts) {
	t.Helper()
	for _, c := range cs {
		if c.code != 0 || c.thawCode != 0 {
			t.Errorf("%s on %s: freeze exit %d: %s\nthaw exit %d: %s", c.caller, c.m.name, c.code, c.out, c.thawCode, c.thawOut)
		}
		if c.code == 0 && !c.consistent {
			t.Errorf("%s on %s: the snapshot is inconsistent: %s", c.caller, c.m.name, c.snapshotProblems)
		}
	}
	if bad := cr.overlaps(1); len(bad) > 0 {
		t.Errorf("VIOLATION: more than one mate down at once:\n%s", strings.Join(bad, "\n"))
	}
	if n.Failed > 0 || n.OK == 0 {
		t.Errorf("the failover client found every mate refusing %d times (%d opens served, %d without an answer in time)", n.Failed, n.OK, n.Slow)
	}
}

// Two callers freeze the two mates of a cluster at the same moment, over
// TLS with client certificates: one stops at once, the other waits for
// the lock and stops only when the first is back and serving; each
// drains first and asks its mate to replicate after.
func TestClusterTwoMatesAtOnce(t *testing.T) {
	e := etcdtest.Start(t, etcdtest.Options{TLS: true})
	cr := newClusterRig(t, e, clusterOptions{mates: 2})
	client := cr.start()
	since := time.Now()
	cs := []*mateCycle{newCycle(cr.mates[0], "vmware", time.Second), newCycle(cr.mates[1], "veeam", time.Second)}
	all(cs...)
	n := client.End()
	cr.judge(t, cs, n)
	first, second := cs[0], cs[1]
	if second.frozenAt.Before(first.frozenAt) {
		first, second = second, first
	}
	t.Logf("%s froze in %s, %s in %s (it waited for the lock); opens served %v", first.m.name, first.took.Round(time.Millisecond),
		second.m.name, second.took.Round(time.Millisecond), n.Served)
	t.Logf("the second freeze said:\n%s", second.out)
	if !strings.Contains(second.out, "cluster mail: waited ") || !strings.Contains(second.out, "for the lock") {
		t.Errorf("the second freeze does not say it waited for the lock:\n%s", second.out)
	}
	if second.frozenAt.Before(first.thawed.Add(-time.Second)) {
		t.Errorf("%s froze at %s, before %s's thaw ended at %s", second.m.name, second.frozenAt, first.m.name, first.thawed)
	}
	for _, c := range cs {
		other := cr.mates[0].name
		if c.m == cr.mates[0] {
			other = cr.mates[1].name
		}
		if got := c.m.restrictions(since); got != "1,0" {
			t.Errorf("%s's Server_Restricted went %q, want 1 (the drain), then 0 once it served again", c.m.name, got)
		}
		if got := c.m.replicated(since); len(got) != 1 || got[0] != other {
			t.Errorf("%s asked to replicate with %v, want [%s]", c.m.name, got, other)
		}
		if !strings.Contains(c.m.log(t), `"command":"replicate \"`+other+`\""`) {
			t.Errorf("%s's log does not show the replicate with %s", c.m.name, other)
		}
	}
	if n.Served[0] == 0 || n.Served[1] == 0 {
		t.Errorf("opens served per mate %v: each mate served while the other was down", n.Served)
	}
}
