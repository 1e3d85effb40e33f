package online

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/state"
)

// A second caller joins backup mode only while enough of its window is
// left for a snapshot: a join in its last moments (found by the online
// soak, seed 8675309: VMware joined 0.1 s before backup mode's window
// ended, and its snapshot was not restorable) fails and leaves the freeze
// in place as it was.
func TestJoinRefusedNearTheEndOfBackupMode(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 12, 36, 45, 0, time.UTC)
	ends := t0.Add(100 * time.Second)
	store, err := state.Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	held := state.Record{Version: state.Version, Target: TargetName, WasRunning: true, Phase: phaseInMode, Deadline: ends,
		Holders: []state.Holder{{Caller: "veeam", Since: t0, PID: 1}},
		Backup:  &state.Backup{Token: "t", ID: "20261123123644", Requested: t0, InMode: t0, Window: ends}}
	vmware := freeze.Caller{Name: "vmware", Budget: 15 * time.Minute}
	for _, c := range []struct {
		at     time.Duration // after t0
		joined bool
	}{
		{99*time.Second + 900*time.Millisecond, false}, // 0.1 s left
		{80 * time.Second, false},                      // 20 s left, below a quarter of the 100 s window
		{70 * time.Second, true},                       // 30 s left
	} {
		if err := store.Save(held); err != nil {
			t.Fatal(err)
		}
		clk := clock.NewFake(t0.Add(c.at))
		e := New(nil, store, Settings{MaxWindow: 100 * time.Second, LockWait: time.Second}, zap.NewNop(), clk)
		res, err := e.Freeze(context.Background(), vmware)
		rec, lerr := store.Load(TargetName)
		if lerr != nil {
			t.Fatal(lerr)
		}
		if !c.joined {
			var late *LateJoinError
			if !errors.As(err, &late) || !strings.Contains(err.Error(), "would not be restorable") || !strings.Contains(err.Error(), "veeam") {
				t.Fatalf("join %s before the end: %+v, %v", ends.Sub(clk.Now()), res, err)
			}
			if len(rec.Holders) != 1 || rec.Holders[0].Caller != "veeam" || !rec.Deadline.Equal(ends) {
				t.Fatalf("a refused join changed the freeze in place: %+v", rec)
			}
			continue
		}
		if err != nil || res.Outcome != freeze.Joined || len(rec.Holders) != 2 {
			t.Fatalf("join %s before the end: %+v, %v (record %+v)", ends.Sub(clk.Now()), res, err, rec)
		}
	}
}

// Every holder of an expired online freeze is told its thaw is late, not
// only the first to thaw (the online soak, seed 8675309: VMware's late
// thaw failed as it should, and Veeam's then found nothing and succeeded,
// vouching for a snapshot that is not restorable).
func TestEveryLateHolderIsTold(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 12, 36, 49, 0, time.UTC)
	store, err := state.Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	expired := state.Record{Version: state.Version, Target: TargetName, Updated: t0, ExpiredAt: t0,
		Expired: []state.Holder{{Caller: "veeam", Since: t0, PID: 1}, {Caller: "vmware", Since: t0, PID: 2}}}
	if err := store.Save(expired); err != nil {
		t.Fatal(err)
	}
	e := New(nil, store, Settings{MaxWindow: 100 * time.Second, LockWait: time.Second}, zap.NewNop(), clock.NewFake(t0.Add(3*time.Second)))
	for _, name := range []string{"vmware", "veeam"} {
		_, handled, err := e.Thaw(context.Background(), freeze.Caller{Name: name})
		var f *Failure
		if !handled || !errors.As(err, &f) || !strings.Contains(err.Error(), "late thaw") {
			t.Fatalf("%s's late thaw: handled %v, %v", name, handled, err)
		}
	}
	if _, handled, err := e.Thaw(context.Background(), freeze.Caller{Name: "veeam"}); handled || err != nil {
		t.Fatalf("a thaw after every late thaw was answered: handled %v, %v", handled, err)
	}
}
