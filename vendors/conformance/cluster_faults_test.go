//go:build linux

package conformance

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/cmd/simdomino/timeline"
	"github.com/quiesce/quiesce/core/cluster/etcdtest"
)

// The cluster lock's faults: a mate down, etcd down (both policies), the
// lock held past a caller's budget, the holder's quiesce killed mid-stop,
// its whole host gone, etcd's leader killed, three mates at once, and a
// mate frozen online.

// oneLine fails unless out is one line holding every want.
func oneLine(t *testing.T, what, out string, want ...string) {
	t.Helper()
	out = strings.TrimSpace(out)
	if strings.Contains(out, "\n") {
		t.Errorf("%s: more than one line:\n%s", what, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%s: %q lacks %q", what, out, w)
		}
	}
}

// refused fails unless out is a refused freeze's one line holding every
// want.
func refused(t *testing.T, out string, want ...string) {
	t.Helper()
	oneLine(t, "the refusal", out, append(want, "freeze refused", "the application was not stopped and is still running")...)
}

// untouched fails unless m's server was neither drained nor stopped since
// since, and serves.
func untouched(t *testing.T, m *mate, since time.Time) {
	t.Helper()
	if m.stopped(since) || m.restrictions(since) != "" || !m.sim.Serving() {
		t.Errorf("%s was touched: stopped %v, Server_Restricted %q, serving %v", m.name, m.stopped(since), m.restrictions(since), m.sim.Serving())
	}
}

// A mate that does not answer on NRPC: a stop would take the last server
// of the cluster down, so the freeze is refused, one line naming the
// mate, and Domino is untouched. check says so, and the metrics count it.
func TestClusterMateDown(t *testing.T) {
	simtest.Slow(t)
	e := etcdtest.Start(t, etcdtest.Options{})
	cr := newClusterRig(t, e, clusterOptions{mates: 2, metrics: true})
	cr.start().End()
	a, b := cr.mates[0], cr.mates[1]
	b.quiesce(t, "stop")
	since := time.Now()
	code, out := a.run("veeam", "pre-freeze")
	if code == 0 {
		t.Fatalf("freeze with the only mate down succeeded:\n%s", out)
	}
	refused(t, out, fmt.Sprintf("cluster mail: mate %s (127.0.0.1:%d) does not answer on NRPC", b.name, b.sim.Port),
		"this is the last serving server of the cluster")
	untouched(t, a, since)
	code, out = a.run("check")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("mate      %s (127.0.0.1:%d) does not answer on NRPC", b.name, b.sim.Port)) ||
		!strings.Contains(out, "=> a stop-mode freeze now is refused: 1 mate(s) down or stopped, max_down 1") || !strings.Contains(out, "lock      free") {
		t.Errorf("check (exit %d) with a mate down:\n%s", code, out)
	}
	prom, _ := os.ReadFile(a.metrics)
	if !regexp.MustCompile(`(?m)^quiesce_cluster_refusals_total\{cluster="mail",reason="mate-down",target="[^"]+"\} 1$`).Match(prom) ||
		!regexp.MustCompile(`(?m)^quiesce_cluster_etcd_up\{cluster="mail",target="[^"]+"\} 1$`).Match(prom) {
		t.Errorf("the metrics do not count the refusal:\n%s", prom)
	}
	if code, out := a.run("veeam", "post-thaw"); code != 0 {
		t.Errorf("the thaw after the refusal: exit %d\n%s", code, out)
	}
}

// etcd that does not answer: with etcd_unreachable = fail (the default) a
// stop is refused within etcd_timeout, whether etcd hangs or is gone; with
// proceed it goes ahead without the lock while every mate answers on
// NRPC, and is refused when one does not.
func TestClusterEtcdUnreachable(t *testing.T) {
	simtest.Slow(t)
	e := etcdtest.Start(t, etcdtest.Options{})
	cr := newClusterRig(t, e, clusterOptions{mates: 2, budgets: "veeam = 2m\n"})
	cr.start().End()
	a, b := cr.mates[0], cr.mates[1]

	e.Pause() // it hangs: connections are accepted, nothing answers
	since := time.Now()
	code, out := a.run("veeam", "pre-freeze")
	took := time.Since(since)
	if code == 0 {
		t.Fatalf("freeze with etcd hanging and etcd_unreachable = fail succeeded:\n%s", out)
	}
	refused(t, out, "cluster mail: etcd does not answer within 2s", "(etcd_unreachable = fail): freeze refused")
	if took > 8*time.Second {
		t.Errorf("the refusal took %s with etcd_timeout = 2s: a freeze must not hang on etcd", took)
	}
	t.Logf("etcd hanging: refused in %s", took.Round(time.Millisecond))
	untouched(t, a, since)
	code, out = a.run("check")
	if code == 0 || !strings.Contains(out, "etcd      does NOT answer (every stop-mode freeze is refused until it does: etcd_unreachable = fail)") {
		t.Errorf("check (exit %d) with etcd hanging, want a failure saying so:\n%s", code, out)
	}

	e.Kill() // it is gone: connections are refused
	since = time.Now()
	code, out = a.run("veeam", "pre-freeze")
	if code == 0 {
		t.Fatalf("freeze with etcd gone succeeded:\n%s", out)
	}
	refused(t, out, "cluster mail: etcd does not answer within 2s (127.0.0.1:", "connection refused)")
	untouched(t, a, since)

	a.setCluster(t, "etcd_unreachable", "proceed")
	since = time.Now()
	code, out = a.run("veeam", "pre-freeze")
	if code != 0 {
		t.Fatalf("freeze with etcd gone and etcd_unreachable = proceed: exit %d\n%s", code, out)
	}
	oneLine(t, "the freeze", out, "stopped without the cluster lock (etcd_unreachable = proceed); every mate answered on NRPC")
	if _, st := a.run("status"); !strings.Contains(st, "cluster mail: stopped WITHOUT the cluster lock") {
		t.Errorf("status does not say the lock was not taken:\n%s", st)
	}
	if code, out := a.run("veeam", "post-thaw"); code != 0 || !a.sim.Serving() {
		t.Fatalf("thaw: exit %d\n%s", code, out)
	}
	if got := a.restrictions(since); got != "1,0" {
		t.Errorf("Server_Restricted went %q, want the drain and its end (1,0)", got)
	}

	b.quiesce(t, "stop")
	since = time.Now()
	code, out = a.run("veeam", "pre-freeze")
	if code == 0 {
		t.Fatalf("freeze without the lock and the mate down succeeded:\n%s", out)
	}
	refused(t, out, "mate "+b.name, "does not answer on NRPC")
	untouched(t, a, since)
}

var lockWait = regexp.MustCompile(`veeam +waits for the lock at most (\S+) `)

// A mate holds the lock past what the caller's budget allows: the freeze
// waits as long as check said, then fails in time, one line naming the
// mate and since when, Domino untouched. recover ends the holder's freeze
// and releases the lock.
func TestClusterLockHeldPastBudget(t *testing.T) {
	simtest.Slow(t)
	e := etcdtest.Start(t, etcdtest.Options{})
	// the stop at most 17 s (drain 10.3 s, graceful 1 s, the kills 5 s),
	// the margin 30 s: veeam's 55 s leave about 6 s to wait
	cr := newClusterRig(t, e, clusterOptions{mates: 2, budgets: "veeam = 55s\n", domino: "shutdown_timeout = 1s\nkill_wait = 1s\nstart_timeout = 20s\n"})
	cr.start().End()
	a, b := cr.mates[0], cr.mates[1]
	if code, out := a.run("vmware", "freeze"); code != 0 {
		t.Fatalf("A's freeze: exit %d\n%s", code, out)
	}
	_, chk := b.run("check", "veeam")
	if !strings.Contains(chk, "lock      held by "+a.name+" (stop freeze by vmware, host ") {
		t.Errorf("check does not show A holding the lock:\n%s", chk)
	}
	m := lockWait.FindStringSubmatch(chk)
	if m == nil {
		t.Fatalf("check does not say how long veeam waits:\n%s", chk)
	}
	wait, err := time.ParseDuration(m[1])
	if err != nil || wait <= 0 || wait >= 55*time.Second {
		t.Fatalf("check says veeam waits %q (%v), want a part of its 55 s budget", m[1], err)
	}
	since := time.Now()
	code, out := b.run("veeam", "pre-freeze")
	took := time.Since(since)
	if code == 0 {
		t.Fatalf("B froze while A holds the lock:\n%s", out)
	}
	refused(t, out, "cluster mail: the lock is held by "+a.name+" (stop freeze by vmware, host ", ") since ", " ago); waited ",
		"all veeam's budget of 55s allows with the stop")
	if took < wait-time.Second || took > wait+5*time.Second {
		t.Errorf("B gave up after %s; check said it waits %s", took.Round(100*time.Millisecond), wait)
	}
	t.Logf("B waited %s (check: %s), budget 55s", took.Round(100*time.Millisecond), wait)
	untouched(t, b, since)

	// recover (as at boot) ends A's freeze: it starts A and releases the
	// lock, and B's freeze goes ahead at once.
	if code, out := a.run("recover", "--boot"); code != 0 || !a.sim.Serving() {
		t.Fatalf("recover: exit %d\n%s", code, out)
	}
	if _, chk := b.run("check"); !strings.Contains(chk, "lock      free") {
		t.Errorf("the lock is still held after A's recover:\n%s", chk)
	}
	c := newCycle(b, "veeam", 0)
	if c.run(); c.code != 0 || c.took > 10*time.Second {
		t.Errorf("B's freeze after A's recover: exit %d in %s\n%s", c.code, c.took, c.out)
	}
}

// The lock holder's quiesce is killed mid-stop: its watchdog brings its
// server back and releases the lock, and the freeze of the mate that
// waited goes ahead only then. Never both down; the client always finds
// a mate.
func TestClusterHolderKilled(t *testing.T) {
	simtest.Slow(t)
	e := etcdtest.Start(t, etcdtest.Options{})
	cr := newClusterRig(t, e, clusterOptions{mates: 2})
	client := cr.start()
	a, b := cr.mates[0], cr.mates[1]
	since := time.Now()
	if killed, _, out := a.runKilled(t, func() bool { return a.stopped(since) }, "vmware", "freeze"); !killed {
		t.Fatalf("A's freeze ended before its stop began:\n%s", out)
	}
	c := newCycle(b, "veeam", 500*time.Millisecond)
	c.run()
	simtest.Eventually(t, 30*time.Second, a.name+" serves again", a.sim.Serving)
	n := client.End()
	cr.judge(t, []*mateCycle{c}, n)
	if !strings.Contains(a.log(t), "finishing an interrupted operation") {
		t.Errorf("%s's log does not show its watchdog finishing the killed freeze", a.name)
	}
	if got := a.replicated(since); len(got) != 1 || got[0] != b.name {
		t.Errorf("%s, brought back by its watchdog, asked to replicate with %v, want [%s]", a.name, got, b.name)
	}
	t.Logf("B froze in %s (it waited for A's watchdog); opens served %v", c.took.Round(time.Millisecond), n.Served)
}

// The holder's host dies mid-freeze (its watchdog with it): nothing
// releases the lock, its lease ends it (the freeze's deadline plus the
// start's time). The mate then finds the dead server not answering and is
// refused; once the host is back (recover at boot), it freezes.
func TestClusterHostDies(t *testing.T) {
	simtest.Slow(t)
	e := etcdtest.Start(t, etcdtest.Options{})
	cr := newClusterRig(t, e, clusterOptions{mates: 2, domino: "shutdown_timeout = 5s\nkill_wait = 2s\nstart_timeout = 5s\n", freeze: "deadline = 5s\n"})
	cr.start().End()
	a, b := cr.mates[0], cr.mates[1]
	if code, out := a.run("vmware", "freeze"); code != 0 {
		t.Fatalf("A's freeze: exit %d\n%s", code, out)
	}
	frozen := time.Now()
	if _, st := a.run("status"); !strings.Contains(st, "cluster mail: this server holds the cluster lock (its lease ends by ") {
		t.Errorf("A's status does not show the lock it holds:\n%s", st)
	}
	// The host is gone: nothing ends A's freeze (and nothing of A's runs
	// again, not even status, which would start a watchdog).
	simtest.KillWatchdogs(a.stateDir())
	var freed time.Time
	simtest.Eventually(t, 60*time.Second, "the lock's lease ends", func() bool {
		_, chk := b.run("check")
		if strings.Contains(chk, "lock      free") {
			freed = time.Now()
			return true
		}
		time.Sleep(500 * time.Millisecond)
		return false
	})
	// deadline 5 s, then start_timeout 5 s and 15 s for the watchdog
	if d := freed.Sub(frozen); d < 20*time.Second || d > 30*time.Second {
		t.Errorf("the lock was released %s after the freeze; its lease ends 25 s after it", d.Round(100*time.Millisecond))
	}
	t.Logf("the dead host's lock ended with its lease %s after its freeze", freed.Sub(frozen).Round(100*time.Millisecond))
	since := time.Now()
	code, out := b.run("veeam", "pre-freeze")
	if code == 0 {
		t.Fatalf("B froze with A dead:\n%s", out)
	}
	refused(t, out, "mate "+a.name, "does not answer on NRPC")
	untouched(t, b, since)
	if code, out := a.run("recover", "--boot"); code != 0 || !a.sim.Serving() {
		t.Fatalf("recover at boot: exit %d\n%s", code, out)
	}
	c := newCycle(b, "veeam", 200*time.Millisecond)
	c.run()
	if c.code != 0 || c.thawCode != 0 || !c.consistent {
		t.Errorf("B after A is back: freeze %d %s; thaw %d %s", c.code, c.out, c.thawCode, c.thawOut)
	}
	if bad := cr.overlaps(1); len(bad) > 0 {
		t.Errorf("VIOLATION: more than one mate down at once:\n%s", strings.Join(bad, "\n"))
	}
}

// etcd's leader is killed while a mate holds the lock: the two nodes left
// keep it, the waiting mate waits on, the holder's thaw releases the lock
// through them and the mate freezes after.
func TestClusterLeaderKilled(t *testing.T) {
	simtest.Slow(t)
	e := etcdtest.Start(t, etcdtest.Options{Nodes: 3})
	cr := newClusterRig(t, e, clusterOptions{mates: 2})
	client := cr.start()
	a, b := cr.mates[0], cr.mates[1]
	first := newCycle(a, "vmware", 0)
	if !first.freezeNow() {
		t.Fatalf("A's freeze: exit %d\n%s", first.code, first.out)
	}
	second := newCycle(b, "veeam", 200*time.Millisecond)
	done := make(chan struct{})
	go func() { second.run(); close(done) }()
	time.Sleep(500 * time.Millisecond)
	leader := e.Leader()
	e.KillNode(leader)
	t.Logf("killed etcd's leader %s", e.Nodes[leader].Name)
	time.Sleep(time.Second)
	if !second.frozenAt.IsZero() {
		t.Fatalf("B froze while A held the lock: %s", second.out)
	}
	_, chk := b.run("check")
	if !strings.Contains(chk, "lock      held by "+a.name) {
		t.Errorf("check after the leader died does not show A holding the lock:\n%s", chk)
	}
	first.thawNow()
	<-done
	n := client.End()
	cr.judge(t, []*mateCycle{first, second}, n)
}

// Three mates frozen by three callers at the same moment: one after
// another, each asking both others to replicate.
func TestClusterThreeMatesAtOnce(t *testing.T) {
	simtest.Slow(t)
	e := etcdtest.Start(t, etcdtest.Options{})
	cr := newClusterRig(t, e, clusterOptions{mates: 3})
	client := cr.start()
	since := time.Now()
	cs := []*mateCycle{newCycle(cr.mates[0], "vmware", 500*time.Millisecond), newCycle(cr.mates[1], "veeam", 500*time.Millisecond),
		newCycle(cr.mates[2], "qemu", 500*time.Millisecond)}
	all(cs...)
	n := client.End()
	cr.judge(t, cs, n)
	for _, c := range cs {
		if got := c.m.replicated(since); len(got) != 2 {
			t.Errorf("%s asked to replicate with %v, want both other mates", c.m.name, got)
		}
		t.Logf("%s by %s froze in %s", c.m.name, c.caller, c.took.Round(time.Millisecond))
	}
	t.Logf("opens served per mate %v", n.Served)
}

// A mate frozen online takes no lock (it serves throughout) but records
// itself: check shows it, and a mate's stop goes ahead at once.
func TestClusterOnlineRecord(t *testing.T) {
	simtest.Slow(t)
	e := etcdtest.Start(t, etcdtest.Options{})
	cr := newClusterRig(t, e, clusterOptions{mates: 2, online: true})
	client := cr.start()
	a, b := cr.mates[0], cr.mates[1]
	if code, out := a.run("veeam", "pre-freeze"); code != 0 || !strings.Contains(out, "backup mode") {
		t.Fatalf("A's online freeze: exit %d\n%s", code, out)
	}
	_, chk := b.run("check")
	if !strings.Contains(chk, "lock      free; frozen online (no lock, no outage): "+a.name) ||
		!strings.Contains(chk, fmt.Sprintf("mate      %s (127.0.0.1:%d) serves, frozen online", a.name, a.sim.Port)) {
		t.Errorf("check does not show A frozen online:\n%s", chk)
	}
	c := newCycle(b, "vmware", 200*time.Millisecond)
	c.run()
	if code, out := a.run("veeam", "post-thaw"); code != 0 {
		t.Errorf("A's thaw: exit %d\n%s", code, out)
	}
	n := client.End()
	cr.judge(t, []*mateCycle{c}, n)
	if c.took > 5*time.Second {
		t.Errorf("B's stop took %s: it must not wait for a mate frozen online", c.took)
	}
	if _, chk := b.run("check"); strings.Contains(chk, "frozen online") {
		t.Errorf("A's record outlived its thaw:\n%s", chk)
	}
}

// A mate that is down when the server is back cannot be asked to
// replicate: the thaw warns (and the metrics count it), it does not
// fail. A caller joining the freeze moves its deadline, and the lock's
// lease follows.
func TestClusterReplicateWarns(t *testing.T) {
	simtest.Slow(t)
	e := etcdtest.Start(t, etcdtest.Options{})
	cr := newClusterRig(t, e, clusterOptions{mates: 2, metrics: true, budgets: "veeam = 5m\nvmware = 20m\n"})
	cr.start().End()
	a, b := cr.mates[0], cr.mates[1]
	if code, out := a.run("veeam", "pre-freeze"); code != 0 {
		t.Fatalf("A's freeze: exit %d\n%s", code, out)
	}
	until := regexp.MustCompile(`its lease ends by (\S+ \S+) at the latest`)
	_, st := a.run("status")
	before := until.FindStringSubmatch(st)
	if code, out := a.run("vmware", "freeze"); code != 0 || !strings.Contains(out, "joined") {
		t.Fatalf("vmware joining A's freeze: exit %d\n%s", code, out)
	}
	_, st = a.run("status")
	after := until.FindStringSubmatch(st)
	if before == nil || after == nil || after[1] <= before[1] {
		t.Errorf("the lock's lease did not follow the later deadline of the caller that joined: before %v, after %v\n%s", before, after, st)
	}
	b.sim.Crash() // the mate goes down meanwhile
	since := time.Now()
	if code, out := a.run("veeam", "post-thaw"); code != 0 {
		t.Fatalf("veeam's thaw: exit %d\n%s", code, out)
	}
	code, out := a.run("vmware", "thaw")
	if code != 0 {
		t.Fatalf("the last thaw with the mate down failed (exit %d): a replicate that cannot be asked for is a warning\n%s", code, out)
	}
	t.Logf("the thaw said: %s", out)
	oneLine(t, "the thaw", out, "WARNING", fmt.Sprintf(`cluster mail: no replicate "%s": mate %s (127.0.0.1:%d) does not answer on NRPC`, b.name, b.name, b.sim.Port))
	if !a.sim.Serving() || a.restrictions(since) != "0" || len(a.replicated(since)) != 0 {
		t.Errorf("after the thaw: serving %v, Server_Restricted %q (want 0), replicated %v (want none)", a.sim.Serving(), a.restrictions(since), a.replicated(since))
	}
	prom, _ := os.ReadFile(a.metrics)
	if !regexp.MustCompile(`(?m)^quiesce_cluster_replicate_failures_total\{cluster="mail",target="[^"]+"\} 1$`).Match(prom) ||
		!regexp.MustCompile(`(?m)^quiesce_cluster_lock_held_since_timestamp_seconds\{cluster="mail",target="[^"]+"\} 0$`).Match(prom) {
		t.Errorf("the metrics do not count the replicate that failed, or still show the lock held:\n%s", prom)
	}
}

// The thaw is killed after its start was proven and the record cleared,
// while it lifts the drain, before it releases the lock: the watchdog,
// finding no freeze but the lock's note, finishes the release (and the
// replicate), so the mate does not wait for the lease to end.
func TestClusterReleaseCutShort(t *testing.T) {
	simtest.Slow(t)
	e := etcdtest.Start(t, etcdtest.Options{})
	cr := newClusterRig(t, e, clusterOptions{mates: 2})
	cr.start().End()
	a, b := cr.mates[0], cr.mates[1]
	if code, out := a.run("veeam", "pre-freeze"); code != 0 {
		t.Fatalf("A's freeze: exit %d\n%s", code, out)
	}
	a.sim.SetIni("SimConsoleDelay", "3") // the console answers late: the kill falls into the drain's end
	since := time.Now()
	lifted := func() bool {
		_, ok := timeline.Last(a.events(timeline.Restricted), timeline.Restricted, since)
		return ok
	}
	if killed, _, out := a.runKilled(t, lifted, "veeam", "post-thaw"); !killed {
		t.Fatalf("the thaw ended before it lifted the drain:\n%s", out)
	}
	a.sim.SetIni("SimConsoleDelay", "")
	if !a.sim.Serving() {
		t.Fatal("A does not serve: the thaw was killed before its start was proven")
	}
	released := time.Now()
	simtest.Eventually(t, 30*time.Second, "the watchdog releases the lock", func() bool {
		_, chk := b.run("check")
		return strings.Contains(chk, "lock      free")
	})
	t.Logf("the lock was released %s after the thaw was killed", time.Since(released).Round(100*time.Millisecond))
	if !strings.Contains(a.log(t), "a freeze's cluster lock outlived it") {
		t.Errorf("A's log does not show the watchdog finishing the release")
	}
	if got := a.replicated(since); len(got) != 1 || got[0] != b.name {
		t.Errorf("A asked to replicate with %v after the kill, want [%s] (the watchdog asks)", got, b.name)
	}
	c := newCycle(b, "veeam", 0)
	if c.run(); c.code != 0 || c.took > 10*time.Second {
		t.Errorf("B's freeze after the release: exit %d in %s\n%s", c.code, c.took, c.out)
	}
}
