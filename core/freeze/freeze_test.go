//go:build linux

package freeze_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/freeze/stopstart"
	"github.com/quiesce/quiesce/core/proc"
	"github.com/quiesce/quiesce/core/state"
)

func TestMain(m *testing.M) {
	os.Exit(simtest.Main(m)) // fails the run when the host's own quiesce files changed
}

type rig struct {
	sim   *simtest.Sim
	srv   *domino.Server
	store *state.Store
	f     *freeze.Session
}

func newRig(t *testing.T, o simtest.Options, shutdown time.Duration, p freeze.Policy) *rig {
	t.Helper()
	sim := simtest.New(t, o)
	srv, err := domino.New(sim.Config(shutdown), domino.Deps{Source: proc.NewSystem(), Log: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	store, err := state.Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	if p.LockWait == 0 {
		p.LockWait = 5 * time.Second
	}
	return &rig{sim, srv, store, session(domino.Freezable{S: srv}, domino.TargetName, store, p, zaptest.NewLogger(t), clock.Real{})}
}

func (r *rig) start(t *testing.T) {
	t.Helper()
	if _, err := r.srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) record(t *testing.T) state.Record {
	t.Helper()
	rec, err := r.store.Load(key(domino.TargetName))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestFreezeSnapshotThaw(t *testing.T) {
	r := newRig(t, simtest.Options{ShutdownSeconds: 0.2}, 10*time.Second, freeze.Policy{})
	r.start(t)
	res, err := r.f.Freeze(ctx, vmware)
	if err != nil || res.Outcome != freeze.Stopped {
		t.Fatalf("freeze: %+v %v", res, err)
	}
	if rep := r.sim.Verify(r.sim.Snapshot()); !rep.Consistent() {
		t.Fatalf("snapshot after freeze: %+v", rep)
	}
	rec := r.record(t)
	if !rec.Frozen() || !rec.Owed || rec.Phase != state.PhaseHeld || rec.Deadline.Before(rec.Holders[0].Since.Add(15*time.Minute)) {
		t.Fatalf("record after freeze: %+v", rec)
	}
	res, err = r.f.Thaw(ctx, vmware)
	if err != nil || res.Outcome != freeze.Started || res.Downtime <= 0 {
		t.Fatalf("thaw: %+v %v", res, err)
	}
	if !r.sim.Serving() || !r.record(t).Empty() {
		t.Fatalf("after thaw: serving %v record %+v", r.sim.Serving(), r.record(t))
	}
	for i := 0; i < 2; i++ { // thaw again: harmless
		if res, err := r.f.Thaw(ctx, vmware); err != nil || res.Outcome != freeze.NothingToThaw {
			t.Fatalf("extra thaw: %+v %v", res, err)
		}
	}
	if !r.sim.Serving() {
		t.Fatal("extra thaw disturbed the server")
	}
}

func TestFreezeOfStoppedServerDoesNotStartIt(t *testing.T) {
	r := newRig(t, simtest.Options{}, 10*time.Second, freeze.Policy{})
	if res, err := r.f.Freeze(ctx, veeam); err != nil || res.Outcome != freeze.NotRunning {
		t.Fatalf("freeze: %+v %v", res, err)
	}
	if res, err := r.f.Thaw(ctx, veeam); err != nil || res.Outcome != freeze.NotStarted {
		t.Fatalf("thaw: %+v %v", res, err)
	}
	if len(r.sim.Procs()) != 0 {
		t.Fatal("thaw started a server that was down before the freeze")
	}
}

func TestThawWithoutFreeze(t *testing.T) {
	r := newRig(t, simtest.Options{}, 10*time.Second, freeze.Policy{})
	r.start(t)
	if res, err := r.f.Thaw(ctx, vmware); err != nil || res.Outcome != freeze.NothingToThaw {
		t.Fatalf("thaw: %+v %v", res, err)
	}
	if !r.sim.Serving() {
		t.Fatal("server disturbed")
	}
}

func TestForcedStopFailsAndRestores(t *testing.T) {
	r := newRig(t, simtest.Options{ShutdownSeconds: 0.2, Ini: map[string]string{"SimHangTask": "router"}}, 500*time.Millisecond, freeze.Policy{})
	r.start(t)
	_, err := r.f.Freeze(ctx, vmware)
	var fe *freeze.FreezeError
	if !errors.As(err, &fe) || !fe.Restored || !errors.Is(err, freeze.ErrFreezeFailed) || !strings.Contains(err.Error(), "router") {
		t.Fatalf("got %v", err)
	}
	if !r.sim.Serving() {
		t.Fatal("server not restored after a failed freeze")
	}
	if !r.record(t).Empty() {
		t.Fatalf("record after restore: %+v", r.record(t))
	}
}

func TestForcedStopContinuePolicy(t *testing.T) {
	r := newRig(t, simtest.Options{ShutdownSeconds: 0.2, Ini: map[string]string{"SimHangTask": "router"}}, 500*time.Millisecond,
		freeze.Policy{ContinueForced: true})
	r.start(t)
	res, err := r.f.Freeze(ctx, vmware)
	if err != nil || res.Outcome != freeze.Stopped || len(res.Warnings) != 1 {
		t.Fatalf("freeze: %+v %v", res, err)
	}
	// The hung router holds up the tasks after it and the server itself:
	// exactly the killed processes' databases are open, the rest closed.
	rep := r.sim.Verify(r.sim.Snapshot())
	want := []string{"catalog.nsf", "log.nsf", "mail.box", "names.nsf"}
	if strings.Join(rep.Dirty, ",") != strings.Join(want, ",") {
		t.Fatalf("open databases %v, want those of the killed update, router and server %v", rep.Dirty, want)
	}
	for _, task := range []string{"server[", "update[", "router["} {
		if !strings.Contains(res.Warnings[0], task) {
			t.Fatalf("warning does not name %s: %s", task, res.Warnings[0])
		}
	}
	if res, err := r.f.Thaw(ctx, vmware); err != nil || res.Outcome != freeze.Started {
		t.Fatalf("thaw: %+v %v", res, err)
	}
}

// Veeam's pre-freeze and VMware Tools' freeze for the same snapshot.
func TestNestedFreezes(t *testing.T) {
	r := newRig(t, simtest.Options{ShutdownSeconds: 0.2}, 10*time.Second, freeze.Policy{})
	r.start(t)
	if res, err := r.f.Freeze(ctx, veeam); err != nil || res.Outcome != freeze.Stopped {
		t.Fatalf("veeam freeze: %+v %v", res, err)
	}
	if res, err := r.f.Freeze(ctx, vmware); err != nil || res.Outcome != freeze.Joined {
		t.Fatalf("vmware freeze: %+v %v", res, err)
	}
	if rep := r.sim.Verify(r.sim.Snapshot()); !rep.Consistent() {
		t.Fatal("snapshot inconsistent")
	}
	if res, err := r.f.Thaw(ctx, vmware); err != nil || res.Outcome != freeze.StillHeld || len(r.sim.Procs()) != 0 {
		t.Fatalf("vmware thaw: %+v %v (processes %d)", res, err, len(r.sim.Procs()))
	}
	if res, err := r.f.Thaw(ctx, veeam); err != nil || res.Outcome != freeze.Started || !r.sim.Serving() {
		t.Fatalf("veeam thaw: %+v %v", res, err)
	}
}

// Two VMware freezes without a thaw between them (a thaw was lost): one
// thaw brings the server back.
func TestRepeatedFreezeBySameCaller(t *testing.T) {
	r := newRig(t, simtest.Options{ShutdownSeconds: 0.2}, 10*time.Second, freeze.Policy{})
	r.start(t)
	if _, err := r.f.Freeze(ctx, vmware); err != nil {
		t.Fatal(err)
	}
	if res, err := r.f.Freeze(ctx, vmware); err != nil || res.Outcome != freeze.Refreshed || len(r.record(t).Holders) != 1 {
		t.Fatalf("second freeze: %+v %v", res, err)
	}
	if res, err := r.f.Thaw(ctx, vmware); err != nil || res.Outcome != freeze.Started {
		t.Fatalf("thaw: %+v %v", res, err)
	}
}

func TestSecondInvocationWaitsThenNamesHolder(t *testing.T) {
	r := newRig(t, simtest.Options{}, 10*time.Second, freeze.Policy{LockWait: 200 * time.Millisecond})
	lock, err := r.store.Lock(ctx, key(domino.TargetName), "freeze by veeam", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	_, err = r.f.Freeze(ctx, vmware)
	var le *state.LockedError
	if !errors.As(err, &le) || le.Holder.Op != "freeze by veeam" {
		t.Fatalf("got %v", err)
	}
}

func TestPlanFitsBudget(t *testing.T) {
	tt := timeouts(600*time.Second, 10*time.Second, 0)
	p := freeze.PlanFor(10*time.Minute, tt) // Veeam with rc_domino's default 600 s
	if !p.Capped || p.Graceful != 10*time.Minute-60*time.Second-40*time.Second || p.Fits() || p.Worst > 10*time.Minute-p.Margin {
		t.Fatalf("%+v", p)
	}
	if adv := p.Advice("DOMINO_SHUTDOWN_TIMEOUT"); !strings.Contains(adv, "set DOMINO_SHUTDOWN_TIMEOUT to at most 8m20s") {
		t.Fatalf("advice %q", adv)
	}
	tt = timeouts(180*time.Second, 10*time.Second, 0)
	if p := freeze.PlanFor(15*time.Minute, tt); !p.Fits() || p.Graceful != 180*time.Second || p.Advice("X") != "" {
		t.Fatalf("%+v", p)
	}
	if p := freeze.PlanFor(60*time.Second, tt); !p.TooTight || p.Fits() {
		t.Fatalf("60 s budget: %+v", p)
	}
	if p := freeze.PlanFor(0, tt); !p.Fits() || p.Graceful != 180*time.Second {
		t.Fatalf("no budget: %+v", p)
	}
}

// A thaw from the same product whose job identity differs from its freeze
// still ends that product's freeze, never another product's.
func TestThawMatchesCallerWhenJobDiffers(t *testing.T) {
	r := newRig(t, simtest.Options{ShutdownSeconds: 0.2}, 10*time.Second, freeze.Policy{})
	r.start(t)
	arc42 := freeze.Caller{Name: "arcserve", Job: "42", Budget: time.Minute}
	if _, err := r.f.Freeze(ctx, arc42); err != nil {
		t.Fatal(err)
	}
	if res, err := r.f.Thaw(ctx, veeam); err != nil || res.Outcome != freeze.StillHeld {
		t.Fatalf("another product's thaw: %+v %v", res, err)
	}
	if res, err := r.f.Thaw(ctx, freeze.Caller{Name: "arcserve"}); err != nil || res.Outcome != freeze.Started {
		t.Fatalf("arcserve thaw without job id: %+v %v", res, err)
	}
}

// A start cut short left a server that runs but never serves: recovery
// does not start a second one, and says that this one does not serve.
func TestRecoverReportsAStartUnderWayThatNeverServes(t *testing.T) {
	r := newRig(t, simtest.Options{Ini: map[string]string{"SimNoListen": "1"}}, 5*time.Second, freeze.Policy{})
	cfg := r.sim.Config(5 * time.Second)
	cfg.StartTimeout = 500 * time.Millisecond
	srv, err := domino.New(cfg, domino.Deps{Source: proc.NewSystem(), Log: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Start(ctx); !errors.Is(err, domino.ErrNotReady) {
		t.Fatalf("start: %v", err)
	}
	// As an interrupted thaw leaves it.
	if err := r.store.Save(state.Record{Instance: key(domino.TargetName), Method: stopstart.Name, Owed: true, Phase: state.PhaseLeaving}); err != nil {
		t.Fatal(err)
	}
	f := session(domino.Freezable{S: srv}, domino.TargetName, r.store, freeze.Policy{LockWait: time.Second}, zaptest.NewLogger(t), clock.Real{})
	_, err = f.Recover(ctx, false)
	if !errors.Is(err, freeze.ErrThawFailed) || !strings.Contains(err.Error(), "runs but does not serve") {
		t.Fatalf("recover: %v", err)
	}
	servers := 0
	for _, p := range r.sim.Procs() {
		if p.Name == "server" {
			servers++
		}
	}
	if servers != 1 || !r.record(t).Empty() {
		t.Fatalf("servers %d, record %+v", servers, r.record(t))
	}
}
