package freeze_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/freeze/stopstart"
	"github.com/quiesce/quiesce/core/state"
)

// scripted is a target for failures the simulator cannot stage: a stop
// that leaves processes behind and starts that fail.
type scripted struct {
	running   bool
	stopErr   error
	startErrs []error
	starts    int
	clk       *clock.Fake   // when set, a stop takes stopTakes on it
	stopTakes time.Duration // how long a stop takes on clk
	killWait  time.Duration // each kill step's wait; 0: a second
}

func (s *scripted) Name() string           { return "scripted" }
func (s *scripted) Running() (bool, error) { return s.running, nil }
func (s *scripted) Timeouts() freeze.Timeouts {
	kill := s.killWait
	if kill == 0 {
		kill = time.Second
	}
	return timeouts(time.Second, kill, time.Second)
}
func (s *scripted) Stop(context.Context, time.Duration) (stopstart.StopReport, error) {
	if s.clk != nil {
		s.clk.Advance(s.stopTakes)
	}
	if s.stopErr == nil {
		s.running = false
	}
	return stopstart.StopReport{Outcome: "clean"}, s.stopErr
}
func (s *scripted) Start(context.Context) (stopstart.StartReport, error) {
	s.starts++
	if len(s.startErrs) > 0 {
		err := s.startErrs[0]
		s.startErrs = s.startErrs[1:]
		if err != nil {
			return stopstart.StartReport{}, err
		}
	}
	s.running = true
	return stopstart.StartReport{Ready: time.Millisecond}, nil
}

func scriptedRig(t *testing.T, tg *scripted) (*freeze.Session, *state.Store) {
	store, err := state.Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	return session(tg, name(tg), store, freeze.Policy{LockWait: time.Second}, zaptest.NewLogger(t), clock.Real{}), store
}

func TestFailedRestoreIsRetriedByThaw(t *testing.T) {
	survivor := errors.New("2 processes still alive after SIGKILL")
	boom := errors.New("server exited during start-up")
	tg := &scripted{running: true, stopErr: survivor, startErrs: []error{boom}}
	f, store := scriptedRig(t, tg)
	_, err := f.Freeze(ctx, vmware)
	var fe *freeze.FreezeError
	if !errors.As(err, &fe) || fe.Restored || !errors.Is(err, survivor) || !errors.Is(fe.RestoreErr, boom) {
		t.Fatalf("freeze: %v", err)
	}
	rec, _ := store.Load(key("scripted"))
	if !rec.Owed || rec.Phase != state.PhaseLeaveFailed || rec.Frozen() {
		t.Fatalf("record must owe a start: %+v", rec)
	}
	res, err := f.Thaw(ctx, vmware)
	if err != nil || res.Outcome != freeze.Started || tg.starts != 2 {
		t.Fatalf("thaw retry: %+v %v (starts %d)", res, err, tg.starts)
	}
}

func TestThawStartFailureKeepsStartOwed(t *testing.T) {
	tg := &scripted{running: true, startErrs: []error{errors.New("not ready")}}
	f, store := scriptedRig(t, tg)
	if _, err := f.Freeze(ctx, veeam); err != nil {
		t.Fatal(err)
	}
	_, err := f.Thaw(ctx, veeam)
	if !errors.Is(err, freeze.ErrThawFailed) {
		t.Fatalf("thaw: %v", err)
	}
	if rec, _ := store.Load(key("scripted")); !rec.Owed || rec.Phase != state.PhaseLeaveFailed {
		t.Fatalf("record: %+v", rec)
	}
	if res, err := f.Thaw(ctx, veeam); err != nil || res.Outcome != freeze.Started {
		t.Fatalf("second thaw: %+v %v", res, err)
	}
}

// The caller gives up while the application is still going down: the
// freeze hands over to the watchdog, whose Recover finishes the stop and
// starts the application.
func TestCancelledFreezeHandsOverToWatchdog(t *testing.T) {
	tg := &scripted{running: true, stopErr: context.Canceled}
	f, store := scriptedRig(t, tg)
	armed := 0
	f.WithWatchdog(func() error { armed++; return nil })
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.Freeze(cctx, vmware)
	var fe *freeze.FreezeError
	if !errors.As(err, &fe) || !fe.Pending || fe.Restored {
		t.Fatalf("cancelled freeze: %v", err)
	}
	rec, _ := store.Load(key("scripted"))
	if rec.Phase != state.PhaseEntering || !rec.Owed || rec.Frozen() || armed == 0 {
		t.Fatalf("record %+v, watchdog armed %d times", rec, armed)
	}
	tg.stopErr = nil // the shutdown completes
	res, err := f.Recover(context.Background(), false)
	if err != nil || res.Outcome != freeze.Started || !tg.running {
		t.Fatalf("recover: %+v %v (running %v)", res, err, tg.running)
	}
	if rec, _ := store.Load(key("scripted")); !rec.Empty() {
		t.Fatalf("record after recovery: %+v", rec)
	}
}

// A stop that used up the freeze's deadline window must not be reported
// as a freeze: the watchdog would start the application during the
// snapshot (seen in the soak on a loaded machine: a 4 s window, a freeze
// that took 4.2 s, and a snapshot taken while the server started again).
// The freeze fails and restores the application; with a quarter of the
// window left it succeeds.
func TestFreezeThatUsedUpItsWindowRestores(t *testing.T) {
	for _, c := range []struct {
		stop time.Duration
		ok   bool
	}{{4200 * time.Millisecond, false}, {3100 * time.Millisecond, false}, {2900 * time.Millisecond, true}} {
		clk := clock.NewFake(time.Date(2026, 11, 23, 11, 19, 0, 0, time.UTC))
		tg := &scripted{running: true, clk: clk, stopTakes: c.stop}
		store, err := state.Open(filepath.Join(t.TempDir(), "state"))
		if err != nil {
			t.Fatal(err)
		}
		f := session(tg, name(tg), store, freeze.Policy{LockWait: time.Second, Deadline: 4 * time.Second}, zaptest.NewLogger(t), clk)
		res, err := f.Freeze(context.Background(), freeze.Caller{Name: "vmware"})
		rec, _ := store.Load(key("scripted"))
		if c.ok {
			if err != nil || res.Outcome != freeze.Stopped || tg.running || !rec.Frozen() {
				t.Fatalf("stop of %s in a 4 s window: %+v %v (running %v, record %+v)", c.stop, res, err, tg.running, rec)
			}
			continue
		}
		var nt *freeze.NoTimeLeftError
		if !errors.As(err, &nt) || !errors.Is(err, freeze.ErrFreezeFailed) {
			t.Fatalf("stop of %s in a 4 s window: %+v %v, want a failed freeze for lack of time", c.stop, res, err)
		}
		if !tg.running || tg.starts != 1 || !rec.Empty() {
			t.Fatalf("stop of %s: not restored (running %v, starts %d, record %+v)", c.stop, tg.running, tg.starts, rec)
		}
	}
}
