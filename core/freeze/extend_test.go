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

// extending is a stop method that keeps something in step with the
// freeze's deadline (as the cluster lock's lease does).
type extending struct {
	*stopstart.Method
	got []time.Time
	err error
}

func (m *extending) Extend(_ context.Context, r *freeze.Run, deadline time.Time) error {
	if !r.Rec.Deadline.Equal(deadline) {
		return errors.New("told another deadline than the record's")
	}
	m.got = append(m.got, deadline)
	return m.err
}

// A join that moves the deadline tells the method; one that does not
// leaves it alone; the method's error is a warning of the join.
func TestJoinTellsAnExtenderOfTheNewDeadline(t *testing.T) {
	store, err := state.Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC))
	tg := &scripted{running: true}
	m := &extending{Method: stopstart.New(tg, "scripted", stopstart.Options{})}
	s := freeze.New(instance("scripted"), store, freeze.Policy{LockWait: time.Second, WatchdogMargin: time.Minute}, zaptest.NewLogger(t), clk,
		freeze.Options{Methods: []freeze.Method{m}})
	if _, err := s.Freeze(ctx, veeam); err != nil {
		t.Fatal(err)
	}
	first, _ := store.Load(key("scripted"))
	if len(m.got) != 0 {
		t.Fatalf("the freeze itself extended: %v", m.got)
	}
	clk.Advance(time.Minute)
	short := freeze.Caller{Name: "qemu", Budget: time.Minute} // ends before veeam's: nothing moves
	if _, err := s.Freeze(ctx, short); err != nil || len(m.got) != 0 {
		t.Fatalf("a join inside the deadline: %v, extended %v", err, m.got)
	}
	m.err = errors.New("cluster mail: the lock's lease could not follow")
	res, err := s.Freeze(ctx, vmware) // 15 m from now: later than veeam's
	if err != nil || res.Outcome != freeze.Joined {
		t.Fatalf("join: %+v %v", res, err)
	}
	rec, _ := store.Load(key("scripted"))
	if len(m.got) != 1 || !m.got[0].Equal(rec.Deadline) || !rec.Deadline.After(first.Deadline) {
		t.Fatalf("extended %v, deadline %v (was %v)", m.got, rec.Deadline, first.Deadline)
	}
	if len(res.Warnings) != 1 || res.Warnings[0] != m.err.Error() {
		t.Errorf("warnings %q, want the method's error", res.Warnings)
	}
}
