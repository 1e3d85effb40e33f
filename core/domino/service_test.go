//go:build linux

package domino_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/proc"
	"github.com/quiesce/quiesce/core/runas"
	"github.com/quiesce/quiesce/core/service"
)

// scmOnLinux plays the service control manager for the Linux simulator,
// so that the engine's Windows path (stop and start through the service,
// nsd -kill, then kill what is left) runs against real processes here;
// under wine the same path runs against the real service control manager
// (service_windows_test.go).
type scmOnLinux struct {
	sim           *simtest.Sim
	acct          runas.Account
	mu            sync.Mutex
	starts, stops int
}

func (f *scmOnLinux) Start(ctx context.Context) (<-chan error, error) {
	f.mu.Lock()
	f.starts++
	f.mu.Unlock()
	cmd := runas.Command(f.acct, f.sim.Data, filepath.Join(f.sim.Lotus, "bin", "server"))
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() {
		if err := cmd.Wait(); err != nil {
			exited <- fmt.Errorf("service: %w (%v)", service.ErrServiceStopped, err)
		}
	}()
	return exited, nil
}

func (f *scmOnLinux) Stop(ctx context.Context) error {
	f.mu.Lock()
	f.stops++
	f.mu.Unlock()
	cmd := runas.CommandContext(ctx, f.acct, f.sim.Data, filepath.Join(f.sim.Lotus, "bin", "server"), "-q")
	return cmd.Run()
}

func (f *scmOnLinux) String() string { return "service " + f.sim.Root }

// serviceServer is the simulated server as a Windows-style service target.
func serviceServer(t *testing.T, o simtest.Options, shutdown time.Duration) (*simtest.Sim, *domino.Server, *scmOnLinux) {
	t.Helper()
	sim := simtest.New(t, o)
	acct, err := runas.Lookup(sim.User)
	if err != nil {
		t.Fatal(err)
	}
	scm := &scmOnLinux{sim: sim, acct: acct}
	cfg := sim.Config(shutdown)
	cfg.Manager, cfg.Service = config.ManagerService, "HCL Domino Server (SimDominoData)"
	s, err := domino.New(cfg, domino.Deps{Source: proc.NewSystem(), Log: zaptest.NewLogger(t), Locator: &domino.Locator{},
		Service: func(name string) service.Manager { return scm }})
	if err != nil {
		t.Fatal(err)
	}
	return sim, s, scm
}

func TestServiceStartStopClean(t *testing.T) {
	sim, s, scm := serviceServer(t, simtest.Options{ShutdownSeconds: 0.3, StartSeconds: 0.2}, 30*time.Second)
	sres, err := s.Start(context.Background())
	if err != nil || sres.Service == "" || sres.PID != 0 {
		t.Fatalf("start: %+v %v", sres, err)
	}
	if st, err := s.Status(); err != nil || st.State != domino.Running || !st.Serving {
		t.Fatalf("after start: %+v %v", st, err)
	}
	res, err := s.Stop(context.Background())
	if err != nil || res.Outcome != domino.Clean || res.Service != "HCL Domino Server (SimDominoData)" {
		t.Fatalf("stop: %+v %v", res, err)
	}
	if scm.starts != 1 || scm.stops != 1 {
		t.Fatalf("the service manager saw %d starts, %d stops", scm.starts, scm.stops)
	}
	if r := sim.Verify(sim.Snapshot()); !r.Consistent() {
		t.Fatalf("snapshot after a clean stop through the service: %+v", r)
	}
}

func TestServiceHungTaskKilledByNsd(t *testing.T) {
	sim, s, _ := serviceServer(t, simtest.Options{ShutdownSeconds: 0.2, Ini: map[string]string{"SimHangTask": "router"}}, 800*time.Millisecond)
	if _, err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	res, err := s.Stop(context.Background())
	if err != nil || res.Outcome != domino.KilledByNsd || !slices.Contains(names(res.Killed), "router") {
		t.Fatalf("stop: %+v %v", res, err)
	}
	if left := sim.Procs(); len(left) != 0 {
		t.Fatalf("processes left: %v", left)
	}
}

func TestServiceKillsWhatNsdLeaves(t *testing.T) {
	sim, s, _ := serviceServer(t, simtest.Options{ShutdownSeconds: 0.2,
		Ini: map[string]string{"SimHangTask": "amgr", "SimNsdFail": "1"}}, 500*time.Millisecond)
	if _, err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	res, err := s.Stop(context.Background())
	if err != nil || res.Outcome != domino.KilledBySignal || !slices.Contains(names(res.Killed), "amgr") {
		t.Fatalf("stop: %+v %v", res, err)
	}
	if left := sim.Procs(); len(left) != 0 {
		t.Fatalf("processes left: %v", left)
	}
}

func TestServiceThatDoesNotStartSaysSo(t *testing.T) {
	sim, s, _ := serviceServer(t, simtest.Options{Ini: map[string]string{"SimFailStart": "1"}}, time.Second)
	_, err := s.Start(context.Background())
	var se *domino.StartError
	if !errors.As(err, &se) || !errors.Is(err, domino.ErrStartFailed) {
		t.Fatalf("got %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, `service "HCL Domino Server (SimDominoData)" stopped during start-up`) || !strings.Contains(msg, "simulated failure") {
		t.Fatalf("the error does not name the service and the reason: %s", msg)
	}
	if left := sim.Procs(); len(left) != 0 {
		t.Fatalf("processes left: %v", left)
	}
}

func TestServiceSettingsFoundWhenNotGiven(t *testing.T) {
	sim := simtest.New(t, simtest.Options{})
	cfg := sim.Config(time.Second)
	cfg.Manager, cfg.Lotus, cfg.Data = config.ManagerService, config.DefaultLotus, config.DefaultData
	cfg.OutputLog = filepath.Join(config.DefaultData, cfg.User+".log")
	var askedUnder []string
	loc := &domino.Locator{
		Registry: func() (string, string) { return sim.Lotus, sim.Data },
		Services: func(dirs []string) (string, error) { askedUnder = dirs; return "Lotus Domino Server (SimData)", nil },
	}
	s, err := domino.New(cfg, domino.Deps{Source: proc.NewSystem(), Locator: loc, Service: func(string) service.Manager { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	got := s.Config()
	if got.Lotus != sim.Lotus || got.Data != sim.Data || got.Service != "Lotus Domino Server (SimData)" ||
		got.OutputLog != filepath.Join(sim.Data, cfg.User+".log") || !slices.Equal(askedUnder, []string{sim.Lotus}) {
		t.Fatalf("resolved %+v (service looked up under %v)", got, askedUnder)
	}

	loc.Services = func([]string) (string, error) { return "", nil }
	_, err = domino.New(cfg, domino.Deps{Source: proc.NewSystem(), Locator: loc})
	var ce *config.Error
	if !errors.As(err, &ce) || ce.Key != "domino.service" || !strings.Contains(err.Error(), sim.Lotus) {
		t.Fatalf("no service found: %v", err)
	}
}
