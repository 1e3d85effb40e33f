package freeze_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/freeze/stopstart"
	"github.com/quiesce/quiesce/core/state"
)

// tidying is a stop method that keeps something beside the record (as
// the cluster lock's note), and counts when it is let tidy up.
type tidying struct {
	*stopstart.Method
	held []bool // whether a freeze was in place at each Tidy
}

func (m *tidying) Tidy(_ context.Context, r *freeze.Run) []string {
	m.held = append(m.held, r.Rec.Held())
	return []string{"tidied"}
}

// recover and the watchdog, finding no freeze in place, let the methods
// tidy up; a freeze in place is never tidied.
func TestNoFreezeLetsATidierTidy(t *testing.T) {
	store, err := state.Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC))
	tg := &scripted{running: true}
	m := &tidying{Method: stopstart.New(tg, "scripted", stopstart.Options{})}
	s := freeze.New(instance("scripted"), store, freeze.Policy{LockWait: time.Second, WatchdogMargin: time.Minute}, zaptest.NewLogger(t), clk,
		freeze.Options{Methods: []freeze.Method{m}})
	if _, err := s.Freeze(ctx, veeam); err != nil {
		t.Fatal(err)
	}
	if res, err := s.Recover(ctx, false); err != nil || res.Outcome != freeze.StillHeld || len(m.held) != 0 {
		t.Fatalf("recover with the freeze in place: %+v %v, tidied %v", res, err, m.held)
	}
	if _, err := s.Thaw(ctx, veeam); err != nil {
		t.Fatal(err)
	}
	if res, err := s.Recover(ctx, false); err != nil || res.Outcome != freeze.NothingToThaw || len(m.held) != 1 || m.held[0] {
		t.Fatalf("recover with nothing in place: %+v %v, tidied %v (want once, no freeze)", res, err, m.held)
	}
	if err := s.Watch(ctx); err != nil {
		t.Fatal(err)
	}
	if len(m.held) != 2 || m.held[1] {
		t.Errorf("the watchdog ending with nothing to guard tidied %v, want a second time, no freeze", m.held)
	}
}
