package freeze_test

import (
	"strings"
	"testing"
	"time"

	"github.com/quiesce/quiesce/core/freeze"
)

// rc_domino's defaults: 600 s graceful wait, 10 s per escalation step,
// 10 minutes to start.
var rcDefaults = timeouts(600*time.Second, 10*time.Second, 10*time.Minute)

var vmwareCycle = freeze.Caller{Name: "vmware", Budget: 15 * time.Minute,
	Limits: freeze.Limits{Thaw: 3 * time.Minute, Snapshot: 2 * time.Minute, Cycle: true}}

// VMware's one timer covers freeze, snapshot and thaw: the graceful wait
// is cut so that all of them, with the margin, fit the timer.
func TestCyclePlanLeavesTheThawItsTime(t *testing.T) {
	p := freeze.PlanCaller(vmwareCycle, rcDefaults)
	if !p.Capped || p.Fits() || p.Graceful != 15*time.Minute-90*time.Second-2*time.Minute-3*time.Minute-40*time.Second {
		t.Fatalf("%+v", p)
	}
	if total := p.Worst + p.Snapshot + p.ThawLimit + p.Margin; total > p.Budget {
		t.Fatalf("freeze %s + snapshot %s + thaw %s + margin %s = %s exceeds the timer %s", p.Worst, p.Snapshot, p.ThawLimit, p.Margin, total, p.Budget)
	}
	if p.ThawWait != 3*time.Minute-18*time.Second || p.ThawWorst != p.ThawWait || !p.Bounded() {
		t.Fatalf("thaw: %+v", p)
	}
	adv := p.AdviceFor(freeze.Keys{Shutdown: "DOMINO_SHUTDOWN_TIMEOUT", Budget: "[budgets] vmware", Thaw: "[budgets] vmware_thaw"})
	if !strings.Contains(adv, "set DOMINO_SHUTDOWN_TIMEOUT to at most 7m50s or raise [budgets] vmware") {
		t.Fatalf("advice %q", adv)
	}
	// The same timeouts under the old freeze-only plan would have used the
	// whole timer for the freeze.
	if old := freeze.PlanFor(15*time.Minute, rcDefaults); old.Capped || old.Worst+p.Snapshot+p.ThawLimit <= p.Budget-p.Margin {
		t.Fatalf("freeze-only plan: %+v", old)
	}
	// VMware's shortest host timer cannot hold a clean stop besides the
	// snapshot and the thaw.
	short := vmwareCycle
	short.Budget = 5 * time.Minute
	p = freeze.PlanCaller(short, timeouts(60*time.Second, 10*time.Second, time.Minute))
	if !p.TooTight || p.Fits() || !strings.Contains(p.AdviceFor(freeze.Keys{Budget: "B", Thaw: "T"}), "one timer of 5m0s leaves only 0s") {
		t.Fatalf("5 min timer: %+v %q", p, p.AdviceFor(freeze.Keys{Budget: "B", Thaw: "T"}))
	}
}

// A thaw waits its caller's limit less a margin; a start that may take
// longer is bounded (the watchdog finishes it); a limit too short to even
// launch does not fit.
func TestThawPlan(t *testing.T) {
	cases := []struct {
		limit, start, wait time.Duration
		bounded, tight     bool
	}{
		{0, 10 * time.Minute, 0, false, false},                              // no limit: wait until serving
		{3 * time.Minute, 10 * time.Minute, 162 * time.Second, true, false}, // Proxmox VE
		{10 * time.Second, 10 * time.Minute, 8 * time.Second, true, false},  // older Proxmox VE
		{10 * time.Minute, 2 * time.Minute, 570 * time.Second, false, false},
		{3 * time.Second, time.Minute, freeze.MinThawWait, true, true},
	}
	for _, c := range cases {
		p := freeze.PlanCaller(freeze.Caller{Name: "qemu", Budget: 10 * time.Minute, Limits: freeze.Limits{Thaw: c.limit}},
			timeouts(time.Minute, 10*time.Second, c.start))
		if p.ThawWait != c.wait || p.Bounded() != c.bounded || p.ThawTight != c.tight || p.Fits() == c.tight {
			t.Errorf("limit %s start %s: %+v", c.limit, c.start, p)
		}
		if want := min(c.start, c.wait); c.bounded && p.ThawWorst != want || !c.bounded && p.ThawWorst != c.start {
			t.Errorf("limit %s: thaw worst %s", c.limit, p.ThawWorst)
		}
	}
}

// A group starts its members one after another within one thaw: the
// thaw's worst case is bounded by the same wait, the start times add up.
func TestGroupThawPlan(t *testing.T) {
	a := &scripted{running: true}
	f1, _ := scriptedRig(t, a)
	f2, _ := scriptedRig(t, &scripted{running: true})
	c := freeze.Caller{Name: "qemu", Budget: 10 * time.Minute, Limits: freeze.Limits{Thaw: 10 * time.Second}}
	p := freeze.Group{Members: []*freeze.Session{f1, f2}}.Plan(c)
	if p.Start != 2*time.Second || p.ThawWait != 8*time.Second || p.Bounded() || p.ThawWorst != 2*time.Second {
		t.Fatalf("%+v", p)
	}
}
