package online

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/proc"
	"github.com/quiesce/quiesce/core/runas"
	"github.com/quiesce/quiesce/core/state"
)

// heldServer is a Domino server in Domino Backup's backup mode, as the
// method sees it: its data directory holds the status file (a real one,
// written by the test), and a backup task runs (this test process).
type heldServer struct{ data string }

func (s heldServer) Config() config.File { return config.File{Domino: config.Domino{Data: s.data}} }
func (s heldServer) Account() runas.Account {
	return runas.Account{Name: "self", UID: os.Geteuid(), GID: os.Getegid()}
}
func (s heldServer) Probe() (bool, []proc.Proc, error) { return true, s.tasks(), nil }
func (s heldServer) BackupTasks() ([]proc.Proc, error) { return s.tasks(), nil }
func (s heldServer) Console(context.Context, time.Duration, string) error {
	return errors.New("not in this test")
}
func (s heldServer) tasks() []proc.Proc {
	return []proc.Proc{{PID: int32(os.Getpid()), Name: "nbackup"}}
}

var testInstance = freeze.Instance{Kind: "domino", Ident: "/test/notesdata", Name: "domino /test/notesdata"}

// heldRig is a session whose record says a freeze by veeam holds the
// server in backup mode since t0, until ends, with the status file to
// match.
func heldRig(t *testing.T, t0, ends time.Time, clk clock.Clock) (*freeze.Session, *state.Store) {
	t.Helper()
	dir := t.TempDir()
	store, err := state.Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(data{Token: "t", ID: "20261123123644", Requested: t0, InMode: t0, Window: ends})
	held := state.Record{Version: state.Version, Instance: testInstance.Key(), Method: Name, Owed: true, Phase: state.PhaseHeld,
		Since: t0, HeldAt: t0, Deadline: ends, Holders: []state.Holder{{Caller: "veeam", Since: t0, PID: 1}}, Data: b}
	if err := store.Save(held); err != nil {
		t.Fatal(err)
	}
	if err := WriteStatus(dir, Status{State: DominoDone, Token: "t", Backup: "20261123123644"}); err != nil {
		t.Fatal(err)
	}
	m := New(heldServer{dir}, Settings{MaxWindow: 100 * time.Second}, zap.NewNop(), clk)
	return freeze.New(testInstance, store, freeze.Policy{LockWait: time.Second}, zap.NewNop(), clk, freeze.Options{Methods: []freeze.Method{m}}), store
}

// A second caller joins backup mode only while enough of its window is
// left for a snapshot: a join in its last moments (found by the online
// soak, seed 8675309: VMware joined 0.1 s before backup mode's window
// ended, and its snapshot was not restorable) fails and leaves the freeze
// in place as it was.
func TestJoinRefusedNearTheEndOfBackupMode(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 12, 36, 45, 0, time.UTC)
	ends := t0.Add(100 * time.Second)
	vmware := freeze.Caller{Name: "vmware", Budget: 15 * time.Minute}
	for _, c := range []struct {
		at     time.Duration // after t0
		joined bool
	}{
		{99*time.Second + 900*time.Millisecond, false}, // 0.1 s left
		{80 * time.Second, false},                      // 20 s left, below a quarter of the 100 s window
		{70 * time.Second, true},                       // 30 s left
	} {
		clk := clock.NewFake(t0.Add(c.at)).WithoutBoot()
		s, store := heldRig(t, t0, ends, clk)
		res, err := s.Freeze(context.Background(), vmware)
		rec, lerr := store.Load(testInstance.Key())
		if lerr != nil {
			t.Fatal(lerr)
		}
		if !c.joined {
			var late *freeze.LateJoinError
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

// A freeze joins only a backup mode it has observed: when Domino Backup
// gave up waiting for the snapshot (its status is no longer DOMINO-DONE),
// the record alone is not believed.
func TestJoinRefusedWhenBackupModeIsGone(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 12, 36, 45, 0, time.UTC)
	clk := clock.NewFake(t0.Add(10 * time.Second)).WithoutBoot()
	s, _ := heldRig(t, t0, t0.Add(100*time.Second), clk)
	dir := s.Methods()[0].(*Method).srv.Config().Data
	if err := WriteStatus(dir, Status{State: Cancelled, Token: "t", Backup: "20261123123644"}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Freeze(context.Background(), freeze.Caller{Name: "vmware", Budget: 15 * time.Minute})
	if !errors.Is(err, freeze.ErrFreezeFailed) || !strings.Contains(err.Error(), "no longer waiting for the snapshot") {
		t.Fatalf("join of a backup mode that is gone: %v", err)
	}
}

// Every holder of an expired online freeze is told its thaw is late, not
// only the first to thaw (the online soak, seed 8675309: VMware's late
// thaw failed as it should, and Veeam's then found nothing and succeeded,
// vouching for a snapshot that is not restorable).
func TestEveryLateHolderIsTold(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 12, 36, 49, 0, time.UTC)
	clk := clock.NewFake(t0.Add(3 * time.Second))
	s, store := heldRig(t, t0, t0.Add(100*time.Second), clk)
	expired := state.Record{Version: state.Version, Instance: testInstance.Key(), Method: Name, Updated: t0, ExpiredAt: t0,
		Expired: []state.Holder{{Caller: "veeam", Since: t0, PID: 1}, {Caller: "vmware", Since: t0, PID: 2}}}
	if err := store.Save(expired); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"vmware", "veeam"} {
		_, err := s.Thaw(context.Background(), freeze.Caller{Name: name})
		var late *freeze.LateThawError
		if !errors.As(err, &late) || !errors.Is(err, freeze.ErrThawFailed) || !strings.Contains(err.Error(), "not restorable") {
			t.Fatalf("%s's late thaw: %v", name, err)
		}
	}
	if res, err := s.Thaw(context.Background(), freeze.Caller{Name: "veeam"}); err != nil || res.Outcome != freeze.NothingToThaw {
		t.Fatalf("a thaw after every late thaw: %+v, %v", res, err)
	}
}
