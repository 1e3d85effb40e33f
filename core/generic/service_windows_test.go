package generic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/freeze/stopstart"
	"github.com/quiesce/quiesce/core/proc"
	"github.com/quiesce/quiesce/core/service"
	"github.com/quiesce/quiesce/core/state"
)

// serviceFlag makes the test binary a Windows service that listens on a
// TCP port until the SCM stops it: a real service for the tests below.
const serviceFlag = "-generic-test-service"

func TestMain(m *testing.M) {
	if len(os.Args) == 4 && os.Args[1] == serviceFlag {
		// Unconditionally: under wine svc.IsWindowsService says false.
		if err := svc.Run(os.Args[2], &testService{addr: os.Args[3]}); err != nil {
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type testService struct{ addr string }

func (s *testService) Execute(_ []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		return true, 1
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	for r := range req {
		switch r.Cmd {
		case svc.Interrogate:
			status <- r.CurrentStatus
		case svc.Stop, svc.Shutdown:
			status <- svc.Status{State: svc.StopPending}
			return false, 0
		}
	}
	return false, 0
}

// testSvc is one installed test service.
type testSvc struct {
	name, dir, addr string
}

// installService installs a copy of the test binary as a Windows service
// under a directory of its own and starts it through the SCM.
func installService(t *testing.T) testSvc {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "app")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "appd.exe")
	copyFile(t, self, exe)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ts := testSvc{name: fmt.Sprintf("quiesce-test-%d", time.Now().UnixNano()), dir: dir, addr: addr}
	m, err := mgr.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Disconnect()
	s, err := m.CreateService(ts.name, exe, mgr.Config{DisplayName: "quiesce test " + ts.name, StartType: mgr.StartManual}, serviceFlag, ts.name, addr)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	t.Cleanup(func() { removeService(ts.name) })
	if _, err := service.NewWindowsService(ts.name).Start(context.Background()); err != nil {
		t.Fatalf("start test service: %v", err)
	}
	return ts
}

func removeService(name string) {
	m, err := mgr.Connect()
	if err != nil {
		return
	}
	defer m.Disconnect()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = service.NewWindowsService(name).Stop(ctx)
	if s, err := m.OpenService(name); err == nil {
		_ = s.Delete()
		s.Close()
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
}

func serviceState(t *testing.T, name string) service.SCMState {
	t.Helper()
	switch simtest.ServiceState(t, name) {
	case svc.Running:
		return service.SCMRunning
	case svc.Stopped:
		return service.SCMStopped
	}
	return service.SCMOther
}

func serviceConfig(ts testSvc, paths ...string) config.Generic {
	return config.Generic{Name: "app", Manager: config.ManagerService, ProcessPaths: paths,
		ReadyTCP: []string{ts.addr}, StopTimeout: 10 * time.Second, KillWait: 2 * time.Second, StartTimeout: 20 * time.Second}
}

// The service is discovered from its program directory (through
// QueryServiceConfig where mgr.Service.Config fails, as under wine, and
// the log says so), its process is found by that directory alone and by
// its account, and a stop and start go through the SCM.
func TestWindowsServiceDiscoveredStoppedStarted(t *testing.T) {
	ts := installService(t)
	core, logs := observer.New(zap.DebugLevel)
	cfg := serviceConfig(ts, ts.dir)
	tg, err := New(cfg, "test.conf", proc.NewSystem(), zap.New(core), clock.Real{})
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	if found := logs.FilterMessage("service discovered").All(); len(found) != 1 || found[0].ContextMap()["service"] != ts.name {
		t.Fatalf("discovered %v, want %s", found, ts.name)
	}
	if configFails(ts.name) && logs.FilterMessageSnippet("QueryServiceConfig").Len() == 0 {
		t.Fatal("Config() failed here but the fallback was not logged")
	}
	if running, err := tg.Running(); !running || err != nil {
		t.Fatalf("by program directory alone: running %v, %v", running, err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	ps, err := proc.NewSystem().Scan(proc.Matcher{UID: -1, Account: u.Username, Prefixes: []string{ts.dir}})
	if err != nil || len(ps) != 1 || !strings.EqualFold(ps[0].Name, "appd.exe") {
		t.Fatalf("by account %s: %v %v", u.Username, ps, err)
	}
	rep, err := tg.Stop(context.Background(), cfg.StopTimeout)
	if err != nil || rep.Forced || rep.Outcome != "clean" {
		t.Fatalf("stop: %+v %v", rep, err)
	}
	if st := serviceState(t, ts.name); st != service.SCMStopped {
		t.Fatalf("service after stop: %v", st)
	}
	if ps, _ := tg.Processes(); len(ps) != 0 {
		t.Fatalf("left after stop: %v", ps)
	}
	if _, err := tg.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	if st := serviceState(t, ts.name); st != service.SCMRunning {
		t.Fatalf("service after start: %v", st)
	}
}

// configFails reports whether mgr.Service.Config fails here (wine 8).
func configFails(name string) bool {
	m, err := mgr.Connect()
	if err != nil {
		return true
	}
	defer m.Disconnect()
	s, err := m.OpenService(name)
	if err != nil {
		return true
	}
	defer s.Close()
	_, err = s.Config()
	return err != nil
}

// The SCM says RUNNING but no process matches (a wrong program
// directory): an error, never "not running", and a freeze fails without
// touching the service.
func TestRunningServiceWithoutProcessesIsAnError(t *testing.T) {
	ts := installService(t)
	cfg := serviceConfig(ts, filepath.Join(filepath.Dir(ts.dir), "elsewhere"))
	cfg.Service = ts.name
	tg, err := New(cfg, "test.conf", proc.NewSystem(), zap.NewNop(), clock.Real{})
	if err != nil {
		t.Fatal(err)
	}
	var unseen *service.UnseenError
	if running, err := tg.Running(); running || !errors.As(err, &unseen) || unseen.State != "running" {
		t.Fatalf("running %v, %v", running, err)
	}
	store, err := state.Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	f := stopstart.NewSession(tg, tg.Instance(), store, freeze.Policy{LockWait: time.Second}, zap.NewNop(), clock.Real{})
	res, err := f.Freeze(context.Background(), freeze.Caller{Name: "vmware", Budget: time.Minute})
	if !errors.As(err, &unseen) || res.Outcome == freeze.NotRunning {
		t.Fatalf("freeze: %+v %v", res, err)
	}
	if st := serviceState(t, ts.name); st != service.SCMRunning {
		t.Fatalf("the service was touched: %v", st)
	}
}
