//go:build linux

package domino_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/cmd/simdomino/timeline"
	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/proc"
)

func TestMain(m *testing.M) {
	os.Exit(simtest.Main(m)) // fails the run when the host's own quiesce files changed
}

func newServer(t *testing.T, sim *simtest.Sim, cfg config.File) *domino.Server {
	t.Helper()
	s, err := domino.New(cfg, domino.Deps{Source: proc.NewSystem(), Log: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// started installs a simulated server and starts it through the engine.
func started(t *testing.T, o simtest.Options, shutdown time.Duration) (*simtest.Sim, *domino.Server) {
	t.Helper()
	sim := simtest.New(t, o)
	s := newServer(t, sim, sim.Config(shutdown))
	if _, err := s.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	return sim, s
}

func TestStartStopClean(t *testing.T) {
	sim, s := started(t, simtest.Options{ShutdownSeconds: 0.3, StartSeconds: 0.2}, 30*time.Second)
	st, err := s.Status()
	if err != nil || st.State != domino.Running || !st.Serving || len(st.Procs) != 5 {
		t.Fatalf("after start: %+v %v", st, err)
	}
	if r := sim.Verify(sim.Snapshot()); r.Consistent() {
		t.Fatal("a snapshot of a running server must show open databases")
	}
	res, err := s.Stop(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != domino.Clean || len(res.Found) != 5 || len(res.Killed) != 0 || res.Outcome.Forced() {
		t.Fatalf("stop result %+v", res)
	}
	if left := sim.Procs(); len(left) != 0 {
		t.Fatalf("processes left: %v", left)
	}
	if r := sim.Verify(sim.Snapshot()); !r.Consistent() || r.Checked < 5 {
		t.Fatalf("snapshot after clean stop: %+v", r)
	}
	if _, ok := timeline.Last(sim.Timeline(), timeline.Exited, time.Time{}); !ok {
		t.Fatal("simulator did not record its own exit")
	}
	if st, _ := s.Status(); st.State != domino.Stopped {
		t.Fatalf("status after stop: %v", st.State)
	}
}

func TestStopNotRunning(t *testing.T) {
	sim := simtest.New(t, simtest.Options{})
	res, err := newServer(t, sim, sim.Config(time.Second)).Stop(context.Background())
	if err != nil || res.Outcome != domino.NotRunning {
		t.Fatalf("got %+v %v", res, err)
	}
}

func TestStopHungTaskKilledByNsd(t *testing.T) {
	sim, s := started(t, simtest.Options{ShutdownSeconds: 0.2, Ini: map[string]string{"SimHangTask": "router"}}, 800*time.Millisecond)
	res, err := s.Stop(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != domino.KilledByNsd || !res.Outcome.Forced() {
		t.Fatalf("outcome %v, want killed by nsd", res.Outcome)
	}
	names := names(res.Killed)
	if !slices.Contains(names, "router") || !slices.Contains(names, "server") {
		t.Fatalf("killed %v: want the hung router and the server waiting for it", names)
	}
	if phase(res, "graceful") < 800*time.Millisecond {
		t.Fatalf("escalated before the shutdown timeout: %+v", res.Phases)
	}
	if left := sim.Procs(); len(left) != 0 {
		t.Fatalf("processes left: %v", left)
	}
	r := sim.Verify(sim.Snapshot())
	if !slices.Contains(r.Dirty, "mail.box") {
		t.Fatalf("the hung router's mail.box must be left open after a kill: %+v", r)
	}
}

func TestStopSignalsWhenNsdFails(t *testing.T) {
	simtest.Slow(t)
	cases := []struct {
		name      string
		ini       map[string]string
		lastPhase string
		notPhase  string
	}{
		{"sigterm", map[string]string{"SimHangTask": "amgr", "SimNsdFail": "1"}, "sigterm", "sigkill"},
		{"sigkill", map[string]string{"SimHangTask": "amgr", "SimIgnoreTerm": "amgr", "SimNsdFail": "1"}, "sigkill", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim, s := started(t, simtest.Options{ShutdownSeconds: 0.2, Ini: c.ini}, 500*time.Millisecond)
			res, err := s.Stop(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != domino.KilledBySignal {
				t.Fatalf("outcome %v", res.Outcome)
			}
			if res.Phases[len(res.Phases)-1].Name != c.lastPhase || (c.notPhase != "" && phase(res, c.notPhase) != 0) {
				t.Fatalf("phases %+v, want last %s", res.Phases, c.lastPhase)
			}
			if !slices.Contains(names(res.Killed), "amgr") {
				t.Fatalf("killed %v", names(res.Killed))
			}
			if left := sim.Procs(); len(left) != 0 {
				t.Fatalf("processes left: %v", left)
			}
		})
	}
}

func TestStartRefusedWhileRunning(t *testing.T) {
	_, s := started(t, simtest.Options{}, 10*time.Second)
	_, err := s.Start(context.Background())
	var are *domino.AlreadyRunningError
	if !errors.As(err, &are) || !errors.Is(err, domino.ErrAlreadyRunning) || len(are.Procs) == 0 {
		t.Fatalf("got %v", err)
	}
}

func TestStartRefusedWhileOnlyTasksLeft(t *testing.T) {
	sim, s := started(t, simtest.Options{}, 10*time.Second)
	for _, p := range sim.Procs() {
		if p.Name == "server" {
			if err := proc.Signal(p, 9); err != nil {
				t.Fatal(err)
			}
			proc.Wait(context.Background(), []proc.Proc{p}, time.Now().Add(5*time.Second))
		}
	}
	st, _ := s.Status()
	if st.State != domino.Dead {
		t.Fatalf("state %v, want dead", st.State)
	}
	if _, err := s.Start(context.Background()); !errors.Is(err, domino.ErrAlreadyRunning) {
		t.Fatalf("start with orphaned tasks: %v", err)
	}
}

func TestStartFailure(t *testing.T) {
	sim := simtest.New(t, simtest.Options{Ini: map[string]string{"SimFailStart": "1"}})
	_, err := newServer(t, sim, sim.Config(time.Second)).Start(context.Background())
	var se *domino.StartError
	if !errors.As(err, &se) || !errors.Is(err, domino.ErrStartFailed) {
		t.Fatalf("got %v", err)
	}
	if se.ExitCode == 0 || !strings.Contains(err.Error(), "simulated failure") {
		t.Fatalf("error does not say why: %v", err)
	}
	if left := sim.Procs(); len(left) != 0 {
		t.Fatalf("processes left: %v", left)
	}
}

func TestStartNeverReady(t *testing.T) {
	sim := simtest.New(t, simtest.Options{Ini: map[string]string{"SimNoListen": "1"}})
	cfg := sim.Config(time.Second)
	cfg.StartTimeout = 700 * time.Millisecond
	_, err := newServer(t, sim, cfg).Start(context.Background())
	var nr *domino.NotReadyError
	if !errors.As(err, &nr) || !nr.ConsoleSeen || nr.PortOpen || nr.Waited < cfg.StartTimeout {
		t.Fatalf("got %#v", err)
	}
}

func TestStartDisabled(t *testing.T) {
	sim := simtest.New(t, simtest.Options{})
	if err := os.WriteFile(filepath.Join(sim.Data, domino.DisabledFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := newServer(t, sim, sim.Config(time.Second)).Start(context.Background())
	if !errors.Is(err, domino.ErrDisabled) {
		t.Fatalf("got %v", err)
	}
	if len(sim.Procs()) != 0 {
		t.Fatal("a disabled server was started")
	}
}

func TestSlowStartWaitsForReadiness(t *testing.T) {
	sim, s := started(t, simtest.Options{StartSeconds: 0.8}, 5*time.Second)
	if !sim.Serving() {
		t.Fatal("Start returned before the server was serving")
	}
	if _, err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestValidation(t *testing.T) {
	sim := simtest.New(t, simtest.Options{})
	cases := []struct {
		edit func(*config.File)
		key  string
		msg  string
	}{
		{func(c *config.File) { c.User = "no-such-user-q" }, "DOMINO_USER", "does not exist"},
		{func(c *config.File) { c.User = "root" }, "DOMINO_USER", "root"},
		{func(c *config.File) { c.Lotus = "/nonexistent/domino" }, "LOTUS", "does not exist"},
		{func(c *config.File) { c.Lotus = sim.Data }, "LOTUS", "bin/server not found"},
		{func(c *config.File) { c.Data = "/nonexistent/data" }, "DOMINO_DATA_PATH", "does not exist"},
	}
	for _, c := range cases {
		cfg := sim.Config(time.Second)
		c.edit(&cfg)
		_, err := domino.New(cfg, domino.Deps{Source: proc.NewSystem()})
		var ce *config.Error
		if !errors.As(err, &ce) || ce.Key != c.key || !strings.Contains(ce.Msg, c.msg) || ce.File != sim.RcConfig {
			t.Errorf("%s: got %v", c.key, err)
		}
	}
}

func names(ps []proc.Proc) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func phase(r domino.StopResult, name string) time.Duration {
	for _, p := range r.Phases {
		if p.Name == name {
			return p.Duration
		}
	}
	return 0
}

// While the launcher is on its way to become the server (a slow start
// script), the server is starting: a second start must see it and refuse.
func TestLauncherInFlightCountsAsRunning(t *testing.T) {
	sim := simtest.New(t, simtest.Options{Ini: map[string]string{"SimLaunchDelay": "1.5"}})
	s := newServer(t, sim, sim.Config(5*time.Second))
	first := make(chan error, 1)
	go func() { _, err := s.Start(context.Background()); first <- err }()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		ps, _ := s.Processes()
		if len(ps) > 0 {
			if ps[0].Exe != filepath.Join(sim.Lotus, "bin", "server") {
				t.Fatalf("first seen %s, not the launcher: the launch window went unseen", ps[0].Exe)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the launcher in flight was never seen")
		}
	}
	if _, err := s.Start(context.Background()); !errors.Is(err, domino.ErrAlreadyRunning) {
		t.Fatalf("second start during the launch: %v", err)
	}
	if err := <-first; err != nil {
		t.Fatalf("first start: %v", err)
	}
	servers := 0
	for _, p := range sim.Procs() {
		if p.Exe == filepath.Join(sim.Lotus, "notes/latest/linux/server") {
			servers++
		}
	}
	if servers != 1 {
		t.Fatalf("%d servers", servers)
	}
}

// The escalation is data: a stop takes the steps its plan counts, in the
// plan's order, none longer than the plan gives it, so the plan's sum is
// what a stop can take. Every step of the way, with a pre-shutdown
// command and a full nsd: the hung task ignores SIGTERM and nsd -kill
// fails, so the stop ends at SIGKILL.
func TestStopTakesOnlyThePlannedSteps(t *testing.T) {
	sim := simtest.New(t, simtest.Options{ShutdownSeconds: 0.2, Ini: map[string]string{"SimHangTask": "amgr", "SimIgnoreTerm": "amgr", "SimNsdFail": "1"}})
	cfg := sim.Config(500 * time.Millisecond)
	cfg.PreShutdownCommand, cfg.PreShutdownDelay, cfg.NsdBeforeKill = "tell amgr quit", 200*time.Millisecond, true
	cfg.KillWait = 700 * time.Millisecond
	s := newServer(t, sim, cfg)
	if _, err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	plan := freeze.PlanFor(0, domino.Freezable{S: s}.Timeouts())
	res, err := s.Stop(context.Background())
	if err != nil || res.Outcome != domino.KilledBySignal {
		t.Fatalf("stop: %v %v", res.Outcome, err)
	}
	const slack = 300 * time.Millisecond // a step's own bookkeeping past its deadline (a process scan)
	next := 0
	for _, ph := range res.Phases {
		for next < len(plan.Steps) && plan.Steps[next].Name != ph.Name {
			next++
		}
		if next == len(plan.Steps) {
			t.Fatalf("the stop took step %q, which its plan %v does not count (or not there)", ph.Name, stepNames(plan.Steps))
		}
		if limit := plan.Steps[next].Limit; ph.Duration > limit+slack {
			t.Errorf("step %s took %s, its plan gives it %s", ph.Name, ph.Duration, limit)
		}
		next++
	}
	if want := []string{"pre-shutdown", "graceful", "nsd", "nsd-kill", "sigterm", "sigkill"}; !slices.Equal(phaseNames(res.Phases), want) {
		t.Fatalf("steps taken %v, want every one of %v", phaseNames(res.Phases), want)
	}
	if res.Total > plan.Worst+time.Duration(len(res.Phases))*slack {
		t.Fatalf("the stop took %s, its plan says at most %s", res.Total, plan.Worst)
	}
}

func stepNames(steps []freeze.Step) []string {
	var out []string
	for _, s := range steps {
		out = append(out, s.Name)
	}
	return out
}

func phaseNames(ps []domino.Phase) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}
