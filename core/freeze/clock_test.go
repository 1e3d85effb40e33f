package freeze_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/state"
)

// Deadlines, the watchdog's expiry and late thaws are decided on the
// Freezer's clock: these tests run them on a fake clock that moves only
// when told, so a freeze's 2m30s deadline is tested to the millisecond
// without waiting for it.

// clockStart is ten years ahead of the wall clock: a Freezer that read
// the wall clock instead of its own would never see a deadline pass here.
var clockStart = time.Now().UTC().Truncate(time.Second).AddDate(10, 0, 0)

// budgetCaller's freeze must end, thawed or not, by its budget plus the
// policy's margin: 2m + 30s.
var budgetCaller = freeze.Caller{Name: "veeam", Budget: 2 * time.Minute}

const clockDeadline = 2*time.Minute + 30*time.Second

func clockRig(t *testing.T) (*freeze.Session, *scripted, *state.Store, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(clockStart)
	tg := &scripted{running: true}
	store, err := state.Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	f := session(tg, name(tg), store, freeze.Policy{LockWait: time.Second, WatchdogMargin: 30 * time.Second}, zaptest.NewLogger(t), clk)
	res, err := f.Freeze(context.Background(), budgetCaller)
	if err != nil || res.Outcome != freeze.Stopped || tg.running {
		t.Fatalf("freeze: %+v %v (running %v)", res, err, tg.running)
	}
	return f, tg, store, clk
}

func TestFreezeDeadlineIsBudgetPlusMarginOnTheClock(t *testing.T) {
	_, _, store, _ := clockRig(t)
	rec, err := store.Load(key("scripted"))
	if err != nil {
		t.Fatal(err)
	}
	if want := clockStart.Add(clockDeadline); !rec.Deadline.Equal(want) || !rec.Since.Equal(clockStart) {
		t.Fatalf("deadline %v stopped at %v; want %v and %v (the fake clock's)", rec.Deadline, rec.Since, want, clockStart)
	}
}

// A thaw a millisecond before the deadline is an ordinary thaw. At the
// deadline the freeze has expired; when nothing ended it (no watchdog ran
// here) and the application is still stopped as the freeze left it, the
// thaw is an ordinary one that says it came late: the caller's snapshot
// saw the application stopped.
func TestThawAtTheDeadlineIsLate(t *testing.T) {
	for _, c := range []struct {
		at   time.Duration
		late bool
	}{{clockDeadline - time.Millisecond, false}, {clockDeadline, true}, {clockDeadline + time.Hour, true}} {
		f, tg, store, clk := clockRig(t)
		clk.Advance(c.at)
		res, err := f.Thaw(context.Background(), budgetCaller)
		if err != nil || res.Outcome != freeze.Started || !tg.running || tg.starts != 1 {
			t.Fatalf("thaw %s after the freeze: %+v %v (running %v, starts %d)", c.at, res, err, tg.running, tg.starts)
		}
		told := strings.Contains(strings.Join(res.Warnings, ";"), "late thaw: the freeze's deadline was "+clockStart.Add(clockDeadline).Format(time.RFC3339)+" and nothing ended it")
		if told != c.late {
			t.Errorf("thaw %s after the freeze: %+v; want told late %v", c.at, res, c.late)
		}
		if rec, _ := store.Load(key("scripted")); !rec.Empty() {
			t.Errorf("thaw %s after the freeze left %+v", c.at, rec)
		}
	}
}

// parked waits until something (the watchdog) waits on the clock and
// returns when that wait ends.
func parked(t *testing.T, clk *clock.Fake) time.Time {
	t.Helper()
	for limit := time.Now().Add(10 * time.Second); time.Now().Before(limit); time.Sleep(time.Millisecond) {
		if at, ok := clk.Next(); ok {
			return at
		}
	}
	t.Fatal("the watchdog never waits on the clock")
	return time.Time{}
}

// advanceTo moves the clock to at, one wait at a time, each time once the
// watchdog is parked on the clock: it never runs ahead of the watchdog.
func advanceTo(t *testing.T, clk *clock.Fake, at time.Time) {
	t.Helper()
	for clk.Now().Before(at) {
		next := parked(t, clk)
		clk.Advance(min(next.Sub(clk.Now()), at.Sub(clk.Now())))
	}
}

// The watchdog sleeps on the clock: one millisecond before the deadline it
// has started nothing; at the deadline it expires the freeze, starts the
// application, names the caller that never thawed, and ends. The caller's
// thaw, 5 minutes later, is told that it came late.
func TestWatchdogExpiresTheFreezeAtItsDeadline(t *testing.T) {
	f, tg, store, clk := clockRig(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f.Watch(ctx) }()

	deadline := clockStart.Add(clockDeadline)
	advanceTo(t, clk, deadline.Add(-time.Millisecond))
	parked(t, clk) // the watchdog has looked at the record and sleeps again
	if tg.running || tg.starts != 0 {
		t.Fatalf("the watchdog started the application %s before the deadline", time.Millisecond)
	}
	clk.Advance(time.Millisecond)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("watchdog: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the watchdog did not end at the deadline (fake time %v)", clk.Now())
	}
	if !tg.running || tg.starts != 1 {
		t.Fatalf("after the deadline: running %v, starts %d", tg.running, tg.starts)
	}
	rec, err := store.Load(key("scripted"))
	if err != nil || len(rec.Expired) != 1 || rec.Expired[0].Caller != "veeam" || !rec.ExpiredAt.Equal(deadline) || rec.Frozen() {
		t.Fatalf("record after expiry: %+v %v; want veeam's freeze expired at %v", rec, err, deadline)
	}

	clk.Advance(5 * time.Minute)
	res, err := f.Thaw(context.Background(), budgetCaller)
	var late *freeze.LateThawError
	if !errors.As(err, &late) || tg.starts != 1 || !strings.Contains(err.Error(), "the freeze by veeam expired at "+deadline.Format(time.RFC3339)) ||
		!strings.Contains(err.Error(), "may be inconsistent") {
		t.Fatalf("late thaw: %+v %v (starts %d)", res, err, tg.starts)
	}
	if rec, _ := store.Load(key("scripted")); !rec.Empty() {
		t.Fatalf("record after the late thaw: %+v", rec)
	}
}
