package freeze_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/freeze/stopstart"
	"github.com/quiesce/quiesce/core/state"
)

// slowStart is an application whose start runs long: Start launches it
// (unless launch is false) and waits until the test lets it serve.
type slowStart struct {
	mu       sync.Mutex
	running  bool
	serving  bool
	launch   bool // Start makes processes appear
	starts   int
	ready    chan struct{} // closed: it serves
	neverErr error         // WaitReady's error when it never serves
}

func newSlow() *slowStart {
	return &slowStart{running: true, serving: true, launch: true, ready: make(chan struct{})}
}

func (s *slowStart) Name() string { return "slow" }
func (s *slowStart) Running() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running, nil
}
func (s *slowStart) Timeouts() freeze.Timeouts {
	return timeouts(time.Second, time.Second, time.Minute)
}
func (s *slowStart) Stop(context.Context, time.Duration) (stopstart.StopReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running, s.serving = false, false
	return stopstart.StopReport{Outcome: "clean"}, nil
}
func (s *slowStart) Start(ctx context.Context) (stopstart.StartReport, error) {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return stopstart.StartReport{}, stopstart.ErrAlreadyRunning
	}
	s.starts++
	s.running = s.launch
	s.mu.Unlock()
	if err := s.WaitReady(ctx); err != nil {
		return stopstart.StartReport{}, err
	}
	return stopstart.StartReport{Ready: time.Millisecond}, nil
}
func (s *slowStart) WaitReady(ctx context.Context) error {
	if s.neverErr != nil {
		return s.neverErr
	}
	select {
	case <-s.ready:
		s.mu.Lock()
		s.serving = true
		s.mu.Unlock()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func slowRig(t *testing.T, tg *slowStart) (*freeze.Session, *state.Store, *int) {
	store, err := state.Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	armed := 0
	f := session(tg, name(tg), store, freeze.Policy{LockWait: time.Second}, zaptest.NewLogger(t), clock.Real{})
	f.WithWatchdog(func() error { armed++; return nil })
	return f, store, &armed
}

// thawer is the engine as a second quiesce process (the caller's thaw)
// sees it: over the same state, counting its watchdog starts with the
// freeze's. A process arms the watchdog at most once.
func thawer(t *testing.T, tg *slowStart, store *state.Store, armed *int) *freeze.Session {
	f := session(tg, name(tg), store, freeze.Policy{LockWait: time.Second}, zaptest.NewLogger(t), clock.Real{})
	f.WithWatchdog(func() error { *armed++; return nil })
	return f
}

// qemu10 is Proxmox VE before the 3-minute thaw timeout: a thaw has 10 s,
// of which quiesce uses 8.
var qemu10 = freeze.Caller{Name: "qemu", Budget: 10 * time.Minute, Limits: freeze.Limits{Thaw: 10 * time.Second}}

// A start slower than the caller's thaw limit: the thaw answers in time
// with a warning, the record still owes the start's proof to the
// watchdog, whose recovery waits until the application serves and notes
// the outcome.
func TestBoundedThawHandsReadinessToWatchdog(t *testing.T) {
	simtest.Slow(t)
	tg := newSlow()
	f, store, armed := slowRig(t, tg)
	if _, err := f.Freeze(ctx, qemu10); err != nil {
		t.Fatal(err)
	}
	f = thawer(t, tg, store, armed) // the thaw is another quiesce process
	began := time.Now()
	res, err := f.Thaw(ctx, qemu10)
	took := time.Since(began)
	if err != nil || res.Outcome != freeze.Launched || len(res.Warnings) != 1 {
		t.Fatalf("thaw: %+v %v", res, err)
	}
	if took < 8*time.Second || took > 10*time.Second {
		t.Fatalf("the thaw answered after %s; the limit is 10 s with a 2 s margin", took)
	}
	rec, _ := store.Load(key("slow"))
	if rec.Phase != state.PhaseLeaving || !rec.Owed || rec.Frozen() || *armed < 2 {
		t.Fatalf("record %+v, watchdog armed %d times", rec, *armed)
	}
	n, ok, err := f.StartNote()
	if err != nil || !ok || n.Outcome != state.StartPending || n.By != "qemu's thaw" {
		t.Fatalf("note %+v %v %v", n, ok, err)
	}
	close(tg.ready) // it serves now
	res, err = f.Recover(ctx, false)
	if err != nil || res.Outcome != freeze.FoundRunning || tg.starts != 1 {
		t.Fatalf("watchdog recovery: %+v %v (starts %d)", res, err, tg.starts)
	}
	if rec, _ := store.Load(key("slow")); !rec.Empty() {
		t.Fatalf("record after recovery: %+v", rec)
	}
	if n, _, _ := f.StartNote(); n.Outcome != state.StartServing {
		t.Fatalf("note after recovery: %+v", n)
	}
}

// The launched application went away before serving: the watchdog starts
// it again. One that runs but never serves is reported, never started twice.
func TestBoundedThawFollowUps(t *testing.T) {
	simtest.Slow(t)
	short := freeze.Caller{Name: "qemu", Budget: time.Minute, Limits: freeze.Limits{Thaw: 3 * time.Second}}
	t.Run("went away", func(t *testing.T) {
		tg := newSlow()
		f, _, _ := slowRig(t, tg)
		mustFreezeThawLaunched(t, f, short)
		tg.mu.Lock()
		tg.running = false // crashed during start-up
		tg.mu.Unlock()
		close(tg.ready)
		res, err := f.Recover(ctx, false)
		if err != nil || res.Outcome != freeze.Started || tg.starts != 2 {
			t.Fatalf("recovery: %+v %v (starts %d)", res, err, tg.starts)
		}
		if n, _, _ := f.StartNote(); n.Outcome != state.StartRestarted {
			t.Fatalf("note %+v", n)
		}
	})
	t.Run("never serves", func(t *testing.T) {
		tg := newSlow()
		f, store, _ := slowRig(t, tg)
		mustFreezeThawLaunched(t, f, short)
		tg.neverErr = errors.New("NRPC port 1352 never accepted")
		_, err := f.Recover(ctx, false)
		if !errors.Is(err, freeze.ErrThawFailed) || tg.starts != 1 {
			t.Fatalf("recovery: %v (starts %d)", err, tg.starts)
		}
		if n, _, _ := f.StartNote(); n.Outcome != state.StartNotServing {
			t.Fatalf("note %+v", n)
		}
		if rec, _ := store.Load(key("slow")); !rec.Empty() {
			t.Fatalf("record %+v", rec)
		}
	})
	t.Run("not even launched", func(t *testing.T) {
		tg := newSlow()
		tg.launch = false
		f, store, armed := slowRig(t, tg)
		if _, err := f.Freeze(ctx, short); err != nil {
			t.Fatal(err)
		}
		f = thawer(t, tg, store, armed)
		_, err := f.Thaw(ctx, short)
		if !errors.Is(err, freeze.ErrThawFailed) {
			t.Fatalf("thaw of an application that never appeared: %v", err)
		}
		if rec, _ := store.Load(key("slow")); rec.Phase != state.PhaseLeaving || !rec.Owed || *armed < 2 {
			t.Fatalf("record %+v armed %d", rec, *armed)
		}
	})
}

func mustFreezeThawLaunched(t *testing.T, f *freeze.Session, c freeze.Caller) {
	t.Helper()
	if _, err := f.Freeze(ctx, c); err != nil {
		t.Fatal(err)
	}
	if res, err := f.Thaw(ctx, c); err != nil || res.Outcome != freeze.Launched {
		t.Fatalf("thaw: %+v %v", res, err)
	}
}

// VMware's one timer counts from the freeze: a thaw late in the cycle
// waits only for what is left of it, not for the whole thaw share.
func TestCycleThawWaitsWhatTheTimerLeaves(t *testing.T) {
	simtest.Slow(t)
	tg := newSlow()
	f, _, _ := slowRig(t, tg)
	c := freeze.Caller{Name: "vmware", Budget: 13 * time.Second, Limits: freeze.Limits{Thaw: 10 * time.Second, Snapshot: time.Second, Cycle: true}}
	if _, err := f.Freeze(ctx, c); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	res, err := f.Thaw(ctx, c)
	if took := time.Since(began); err != nil || res.Outcome != freeze.Launched || took > 5*time.Second {
		t.Fatalf("thaw after %s: %+v %v (the timer ends 13 s after the freeze, 10 s kept free: the thaw had 3 s)", took, res, err)
	}
}
