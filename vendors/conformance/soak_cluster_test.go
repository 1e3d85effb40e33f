//go:build linux

package conformance

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/quiesce/quiesce/cmd/simdomino/nrpcwatch"
	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/core/cluster/etcdtest"
)

// The cluster soak (two mates): each cycle two callers freeze the two
// mates of a cluster at the same moment, on a three-node etcd, with a
// fault drawn at random. Invariants: never both mates down (their own
// timelines), the failover client never finds both refusing, every freeze
// reported successful gives a consistent snapshot, a freeze fails only as
// its fault allows (the lock held past its wait, a mate down, etcd
// between leaders) and says so in one line, and after every cycle both
// mates serve and etcd holds no lock and no record.
// QUIESCE_SOAK_CLUSTER_CYCLES sets the length (CI: clusterSoakCI; make
// soak's QUIESCE_SOAK_CYCLES sets it too), QUIESCE_SOAK_SEED replays a
// run.

// clusterSoakCI is the soak's length in CI.
const clusterSoakCI = 40

func clusterSoakCycles() int {
	for _, k := range []string{"QUIESCE_SOAK_CLUSTER_CYCLES", "QUIESCE_SOAK_CYCLES"} {
		if n, err := strconv.Atoi(os.Getenv(k)); err == nil && n > 0 {
			return n
		}
	}
	return clusterSoakCI
}

// clusterSoakDeadline is the soak's [freeze] deadline: long enough for a
// stop (drain included, at most 15 s) with a few seconds' wait for the
// lock before it.
const clusterSoakDeadline = 30 * time.Second

type clusterFault string

const (
	kNone       clusterFault = "none"
	kKillFreeze clusterFault = "one quiesce SIGKILLed during its freeze"
	kKillThaw   clusterFault = "the holder's quiesce SIGKILLed during its thaw"
	kDupThaw    clusterFault = "duplicate thaws"
	kJoin       clusterFault = "a second caller joins one freeze"
	kThawNever  clusterFault = "a thaw never comes"
	kMateDown   clusterFault = "a mate stopped by hand"
	kEtcdNode   clusterFault = "an etcd node killed"
)

// clusterFaults are drawn from; a thaw that never comes costs a whole
// deadline, so it is drawn a third as often as the others.
var clusterFaults = []clusterFault{kNone, kNone, kNone, kKillFreeze, kKillFreeze, kKillFreeze, kKillThaw, kKillThaw, kKillThaw,
	kDupThaw, kDupThaw, kDupThaw, kJoin, kJoin, kJoin, kThawNever, kMateDown, kMateDown, kMateDown, kEtcdNode, kEtcdNode, kEtcdNode}

type clusterDraw struct {
	f       clusterFault
	callers [2]string
	x       int // the mate the fault hits
	delay   time.Duration
	hold    [2]time.Duration
}

type clusterSoak struct {
	t      *testing.T
	cr     *clusterRig
	cli    *clientv3.Client
	client *nrpcwatch.Cluster
	rnd    *rand.Rand
	tally  map[clusterFault]*clusterRow
	logs   []int64 // where each mate's log began this cycle
}

type clusterRow struct{ cycles, frozen, busy, mateDown, etcdDown, snapshots int }

func (s *clusterSoak) draw() clusterDraw {
	d := clusterDraw{f: clusterFaults[s.rnd.Intn(len(clusterFaults))], x: s.rnd.Intn(2), delay: time.Duration(s.rnd.Intn(1500)) * time.Millisecond}
	for i := range d.callers {
		d.callers[i] = soakCallers[s.rnd.Intn(len(soakCallers))][0]
		d.hold[i] = time.Duration(s.rnd.Intn(500)) * time.Millisecond
	}
	return d
}

func TestSoakCluster(t *testing.T) {
	simtest.Slow(t)
	seed := time.Now().UnixNano()
	if v, err := strconv.ParseInt(os.Getenv("QUIESCE_SOAK_SEED"), 10, 64); err == nil {
		seed = v
	}
	n := clusterSoakCycles()
	t.Logf("cluster soak seed %d (QUIESCE_SOAK_SEED=%d replays it), %d cycles", seed, seed, n)
	e := etcdtest.Start(t, etcdtest.Options{Nodes: 3})
	cr := newClusterRig(t, e, clusterOptions{mates: 2, domino: "shutdown_timeout = 2s\nkill_wait = 1s\nstart_timeout = 10s\n",
		freeze: fmt.Sprintf("deadline = %s\n", clusterSoakDeadline)})
	s := &clusterSoak{t: t, cr: cr, cli: e.Client(), rnd: rand.New(rand.NewSource(seed)), tally: map[clusterFault]*clusterRow{}}
	s.client = cr.start()
	began := time.Now()
	for i := 0; i < n; i++ {
		s.cycle(i, s.draw())
	}
	counts := s.client.End()
	if counts.Failed > 0 {
		t.Fatalf("VIOLATION: the failover client found both mates refusing %d times", counts.Failed)
	}
	s.report(n, time.Since(began), counts)
}

func (s *clusterSoak) cycle(i int, d clusterDraw) {
	row := s.tally[d.f]
	if row == nil {
		row = &clusterRow{}
		s.tally[d.f] = row
	}
	row.cycles++
	s.logs = s.logs[:0]
	for _, m := range s.cr.mates {
		st, _ := os.Stat(m.logFile)
		if st != nil {
			s.logs = append(s.logs, st.Size())
		} else {
			s.logs = append(s.logs, 0)
		}
	}
	x, y := s.cr.mates[d.x], s.cr.mates[1-d.x]
	cx, cy := newCycle(x, d.callers[d.x], d.hold[d.x]), newCycle(y, d.callers[1-d.x], d.hold[1-d.x])
	var judged []*mateCycle
	switch d.f {
	case kNone:
		all(cx, cy)
		judged = []*mateCycle{cx, cy}
	case kDupThaw:
		all(cx, cy)
		for _, c := range []*mateCycle{cx, cy} {
			if c.code == 0 {
				if code, out := c.m.run(c.caller, c.thaw); code != 0 {
					s.fail(i, d, "a duplicate thaw of %s failed: %s", c.m.name, out)
				}
			}
		}
		judged = []*mateCycle{cx, cy}
	case kKillFreeze:
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); cy.run() }()
		start := time.Now()
		killed, code, out := x.runKilled(s.t, func() bool { return time.Since(start) >= d.delay }, cx.caller, cx.freeze)
		judged = []*mateCycle{cy}
		if !killed { // it was done before its kill
			cx.code, cx.out = code, out
			if code == 0 {
				cx.consistent = true // no snapshot was taken of it
				cx.thawNow()
			}
			judged = append(judged, cx)
		}
		wg.Wait()
	case kKillThaw:
		if !cx.freezeNow() {
			judged = []*mateCycle{cx}
			break
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); cy.run() }()
		start := time.Now()
		killed, code, out := x.runKilled(s.t, func() bool { return time.Since(start) >= d.delay/2 }, cx.caller, cx.thaw)
		cx.thawCode, cx.thawOut = code, out
		if killed {
			cx.thawCode = 0 // its watchdog finishes the start
		}
		wg.Wait()
		judged = []*mateCycle{cx, cy}
	case kJoin:
		other := soakCallers[(indexOf(cx.caller)+1)%len(soakCallers)][0]
		second := newCycle(x, other, 0)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); cy.run() }()
		if cx.freezeNow() {
			if !second.freezeNow() {
				s.fail(i, d, "%s joining %s's freeze of %s failed: %s", other, cx.caller, x.name, second.out)
			}
			time.Sleep(d.hold[d.x])
			second.thawNow()
			if !x.stopped(cx.began) || x.sim.Serving() {
				s.fail(i, d, "%s serves after the first of two thaws", x.name)
			}
			cx.thawNow()
		}
		wg.Wait()
		judged = []*mateCycle{cx, cy}
	case kThawNever:
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); cy.run() }()
		ok := cx.freezeNow()
		wg.Wait()
		if ok {
			s.servingBy(i, d, x, clusterSoakDeadline+20*time.Second)
			if code, out := x.run(cx.caller, cx.thaw); code == 0 || !strings.Contains(out, "late thaw") {
				s.fail(i, d, "the late thaw of %s succeeded or did not say it is late: %s", x.name, out)
			}
			if code, out := x.run(cx.caller, cx.thaw); code != 0 {
				s.fail(i, d, "the thaw after the late thaw failed: %s", out)
			}
			cx.thawCode = 0
		}
		judged = []*mateCycle{cx, cy}
	case kMateDown:
		x.quiesce(s.t, "stop")
		since := time.Now()
		code, out := y.run(cy.caller, cy.freeze)
		if code == 0 {
			s.fail(i, d, "%s froze with its mate stopped: %s", y.name, out)
		}
		if !strings.Contains(out, "does not answer on NRPC") || strings.Contains(strings.TrimSpace(out), "\n") || y.stopped(since) {
			s.fail(i, d, "%s's refusal with its mate down: %s (stopped %v)", y.name, out, y.stopped(since))
		}
		row.mateDown++
		_, _ = y.run(cy.caller, cy.thaw)
		x.quiesce(s.t, "start")
	case kEtcdNode:
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); all(cx, cy) }()
		time.Sleep(d.delay)
		victim := s.rnd.Intn(3)
		if s.rnd.Intn(2) == 0 {
			victim = s.cr.etcd.Leader()
		}
		s.cr.etcd.KillNode(victim)
		wg.Wait()
		s.cr.etcd.Restart()
		judged = []*mateCycle{cx, cy}
	}
	s.judge(i, d, row, judged)
	for _, m := range s.cr.mates {
		s.servingBy(i, d, m, clusterSoakDeadline+20*time.Second)
	}
	s.lockFree(i, d)
	if bad := s.cr.overlaps(1); len(bad) > 0 {
		s.fail(i, d, "VIOLATION: both mates down at once:\n%s", strings.Join(bad, "\n"))
	}
	if n := s.client.Counts(); n.Failed > 0 {
		s.fail(i, d, "VIOLATION: the failover client found both mates refusing %d times", n.Failed)
	}
}

// judge accepts what each cycle came to: a freeze that succeeded (with a
// consistent snapshot and a thaw that succeeded), or one refused as the
// fault allows.
func (s *clusterSoak) judge(i int, d clusterDraw, row *clusterRow, cs []*mateCycle) {
	for _, c := range cs {
		if c.code == 0 {
			row.frozen++
			if !c.consistent {
				s.fail(i, d, "VIOLATION: %s's freeze of %s succeeded but the snapshot is inconsistent: %s", c.caller, c.m.name, c.snapshotProblems)
			}
			row.snapshots++
			if c.thawCode != 0 {
				s.fail(i, d, "%s's thaw of %s failed: %s", c.caller, c.m.name, c.thawOut)
			}
			continue
		}
		out := strings.TrimSpace(c.out)
		switch {
		case strings.Contains(out, "\n"):
			s.fail(i, d, "%s's refused freeze of %s said more than one line:\n%s", c.caller, c.m.name, out)
		case strings.Contains(out, "cluster mail: the lock is held by ") && strings.Contains(out, "freeze refused"):
			row.busy++
		case d.f == kEtcdNode && strings.Contains(out, "cluster mail: etcd does not answer within"):
			row.etcdDown++
		case (d.f == kKillFreeze || d.f == kKillThaw) && strings.Contains(out, "does not answer on NRPC"):
			row.mateDown++ // the killed one's watchdog had not brought it back yet
		default:
			s.fail(i, d, "%s's freeze of %s failed: %s", c.caller, c.m.name, out)
		}
	}
}

// servingBy fails unless m serves by limit.
func (s *clusterSoak) servingBy(i int, d clusterDraw, m *mate, limit time.Duration) {
	for deadline := time.Now().Add(limit); !m.sim.Serving(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			s.fail(i, d, "VIOLATION: %s not serving %s later", m.name, limit)
		}
	}
}

// lockFree fails unless etcd holds no lock key and no record within a
// few seconds of both mates serving (a release follows the proven start;
// a killed freeze's place in the queue ends with its 10 s lease).
func (s *clusterSoak) lockFree(i int, d clusterDraw) {
	var left []string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		resp, err := s.cli.Get(ctx, "/quiesce/clusters/mail/", clientv3.WithPrefix())
		cancel()
		if err != nil {
			left = []string{err.Error()}
			continue
		}
		left = left[:0]
		for _, kv := range resp.Kvs {
			left = append(left, string(kv.Key)+"="+string(kv.Value))
		}
		if len(left) == 0 {
			return
		}
	}
	s.fail(i, d, "etcd still holds, 15 s after both mates serve again:\n%s", strings.Join(left, "\n"))
}

func (s *clusterSoak) fail(i int, d clusterDraw, format string, a ...any) {
	s.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "cluster soak cycle %d (%s; %s on %s, %s on %s): ", i, d.f, d.callers[d.x], s.cr.mates[d.x].name, d.callers[1-d.x], s.cr.mates[1-d.x].name)
	fmt.Fprintf(&b, format, a...)
	for k, m := range s.cr.mates {
		log, _ := os.ReadFile(m.logFile)
		if k < len(s.logs) && int64(len(log)) >= s.logs[k] {
			log = log[s.logs[k]:]
		}
		fmt.Fprintf(&b, "\n\n%s's quiesce log of this cycle:\n%s", m.name, tailLines(string(log), 40))
	}
	s.t.Fatal(b.String())
}

func (s *clusterSoak) report(n int, took time.Duration, counts nrpcwatch.Counts) {
	var b strings.Builder
	fmt.Fprintf(&b, "\ncluster soak: %d cycles in %s, never both mates down, 0 violations; failover client: %d opens served (%v per mate), %d without an answer in time, 0 refused by both\n",
		n, took.Round(time.Second), counts.OK, counts.Served, counts.Slow)
	fmt.Fprintf(&b, "%-48s %6s %7s %5s %9s %9s %10s\n", "fault", "cycles", "frozen", "busy", "mate-down", "etcd-down", "snapshots")
	keys := make([]string, 0, len(s.tally))
	for f := range s.tally {
		keys = append(keys, string(f))
	}
	sort.Strings(keys)
	for _, k := range keys {
		r := s.tally[clusterFault(k)]
		fmt.Fprintf(&b, "%-48s %6d %7d %5d %9d %9d %10d\n", k, r.cycles, r.frozen, r.busy, r.mateDown, r.etcdDown, r.snapshots)
	}
	s.t.Log(b.String())
	if path := os.Getenv("QUIESCE_SOAK_REPORT"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			_, _ = f.WriteString(b.String())
			f.Close()
		}
	}
}
