package domino_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"golang.org/x/sys/windows/registry"
	"golang.org/x/sys/windows/svc"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/proc"
)

// Under wine: the simulated Domino server registered as a real Windows
// service, driven through the real service control manager.

func TestMain(m *testing.M) {
	os.Exit(simtest.Main(m)) // fails the run when the host's own quiesce files changed
}

// winServer is the engine over a simulated server installed as a service,
// configured as simdomino install wrote quiesce.conf (program directory,
// data directory, service name).
func winServer(t *testing.T, o simtest.Options, shutdown time.Duration) (*simtest.Sim, *domino.Server) {
	t.Helper()
	sim := simtest.New(t, o)
	s, err := domino.New(winConfig(sim, shutdown), domino.Deps{Source: proc.NewSystem(), Log: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if s.ServiceName() != sim.Service {
		t.Fatalf("on Windows the target runs as the service %q, not %q", sim.Service, s.ServiceName())
	}
	return sim, s
}

// winConfig is the configuration simdomino install wrote, with waits
// sized for wine on a loaded machine, where starting a process (nsd.exe)
// takes seconds.
func winConfig(sim *simtest.Sim, shutdown time.Duration) config.File {
	cfg := sim.Config(shutdown)
	cfg.KillWait = 15 * time.Second
	cfg.StartTimeout = 60 * time.Second
	return cfg
}

func TestWindowsServiceStartStopClean(t *testing.T) {
	sim, s := winServer(t, simtest.Options{ShutdownSeconds: 0.5, StartSeconds: 0.3}, 30*time.Second)
	if _, err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if simtest.ServiceState(t, sim.Service) != svc.Running || !sim.Serving() {
		t.Fatal("after start: the service must run and the NRPC port accept")
	}
	st, err := s.Status()
	if err != nil || st.State != domino.Running || len(st.Procs) != 5 {
		t.Fatalf("status: %+v %v", st, err)
	}
	if r := sim.Verify(sim.Snapshot()); r.Consistent() {
		t.Fatal("a copy of a running server's data must show open databases")
	}
	res, err := s.Stop(context.Background())
	if err != nil || res.Outcome != domino.Clean || res.Service != sim.Service {
		t.Fatalf("stop: %+v %v", res, err)
	}
	if got := simtest.ServiceState(t, sim.Service); got != svc.Stopped {
		t.Fatalf("service state %d after the stop, want stopped", got)
	}
	if r := sim.Verify(sim.Snapshot()); !r.Consistent() {
		t.Fatalf("copy after a clean stop: %+v", r)
	}
}

func TestWindowsHungTaskEndsInNsdKill(t *testing.T) {
	sim, s := winServer(t, simtest.Options{ShutdownSeconds: 0.3, Ini: map[string]string{"SimHangTask": "router"}}, 1500*time.Millisecond)
	if _, err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	res, err := s.Stop(context.Background())
	if err != nil || res.Outcome != domino.KilledByNsd || !slices.Contains(names(res.Killed), "nrouter.exe") {
		t.Fatalf("stop: %+v %v", res, err)
	}
	if left := sim.Procs(); len(left) != 0 {
		t.Fatalf("processes left: %v", left)
	}
	if r := sim.Verify(sim.Snapshot()); !slices.Contains(r.Dirty, "mail.box") {
		t.Fatalf("the hung router's mail.box must be left open by the kill: %+v", r)
	}
	// The service control manager may still report the killed service
	// (wine never notices the kill): the start brings it back all the same.
	sim.SetIni("SimHangTask", "")
	if _, err := s.Start(context.Background()); err != nil {
		t.Fatalf("start after the kill: %v", err)
	}
	if simtest.ServiceState(t, sim.Service) != svc.Running || !sim.Serving() {
		t.Fatal("after the start the service must run and serve")
	}
}

func TestWindowsTerminateProcessWhenNsdFails(t *testing.T) {
	sim, s := winServer(t, simtest.Options{ShutdownSeconds: 0.3,
		Ini: map[string]string{"SimHangTask": "amgr", "SimNsdFail": "1"}}, 1500*time.Millisecond)
	if _, err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	res, err := s.Stop(context.Background())
	if err != nil || res.Outcome != domino.KilledBySignal || res.Phases[len(res.Phases)-1].Name != "terminate" {
		t.Fatalf("stop: %+v %v", res, err)
	}
	if res.Outcome.String() != "killed by TerminateProcess" {
		t.Fatalf("outcome %q", res.Outcome)
	}
	if left := sim.Procs(); len(left) != 0 {
		t.Fatalf("processes left: %v", left)
	}
}

func TestWindowsServiceThatDoesNotStart(t *testing.T) {
	sim, s := winServer(t, simtest.Options{Ini: map[string]string{"SimFailStart": "1"}}, time.Second)
	_, err := s.Start(context.Background())
	if !errors.Is(err, domino.ErrStartFailed) || !strings.Contains(err.Error(), sim.Service) || !strings.Contains(err.Error(), "simulated failure") {
		t.Fatalf("got %v", err)
	}
	if left := sim.Procs(); len(left) != 0 {
		t.Fatalf("processes left: %v", left)
	}
}

func TestWindowsServerNeverListening(t *testing.T) {
	sim := simtest.New(t, simtest.Options{Ini: map[string]string{"SimNoListen": "1"}})
	cfg := winConfig(sim, time.Second)
	cfg.StartTimeout = 15 * time.Second // the service starts in 2-4 s under wine, up to 10 s loaded
	s, err := domino.New(cfg, domino.Deps{Source: proc.NewSystem()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Start(context.Background())
	var nr *domino.NotReadyError
	if !errors.As(err, &nr) || !nr.ConsoleSeen || nr.PortOpen {
		t.Fatalf("got %v", err)
	}
	if simtest.ServiceState(t, sim.Service) != svc.Running {
		t.Fatal("a server that runs but does not serve is left running, as on Linux")
	}
}

func names(ps []proc.Proc) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

// Configured as simply as on Linux: with neither directories nor service
// in the configuration, the registry gives the directories (as Domino's
// installer records them) and the service list the service.
func TestWindowsSettingsFromRegistryAndServiceList(t *testing.T) {
	sim := simtest.New(t, simtest.Options{})
	k, _, err := registry.CreateKey(registry.LOCAL_MACHINE, `SOFTWARE\Lotus\Domino`, registry.SET_VALUE)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	t.Cleanup(func() { _ = registry.DeleteKey(registry.LOCAL_MACHINE, `SOFTWARE\Lotus\Domino`) })
	if err := k.SetStringValue("Path", sim.Lotus); err != nil {
		t.Fatal(err)
	}
	if err := k.SetStringValue("DataPath", sim.Data); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.ParseNative("quiesce.conf", []byte("[domino]\nshutdown_timeout = 30s\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := domino.New(cfg, domino.Deps{Source: proc.NewSystem(), Log: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	got := s.Config()
	if !strings.EqualFold(got.Lotus, sim.Lotus) || !strings.EqualFold(got.Data, sim.Data) || got.Service != sim.Service {
		t.Fatalf("resolved lotus %q data %q service %q; want %q %q %q", got.Lotus, got.Data, got.Service, sim.Lotus, sim.Data, sim.Service)
	}
}
