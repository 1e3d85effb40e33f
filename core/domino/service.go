package domino

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/proc"
	"github.com/quiesce/quiesce/core/service"
)

// Domino on Windows runs as a service ("Lotus Domino Server
// (LotusDominoData)", the name carries the data directory): quiesce stops
// and starts it through the service control manager, escalates with
// nsd.exe -kill and TerminateProcess, and counts as Domino's every process
// running a program under the program directory (nserver.exe, the n*.exe
// tasks, however many).

// Windows defaults, when neither the configuration nor the registry says.
const (
	DefaultWindowsLotus = `C:\Program Files\HCL\Domino`
	windowsDataDir      = "Data"
)

// byService reports whether the server is managed as a Windows service:
// manager = service, or (auto) on Windows.
func byService(cfg config.File) bool {
	return cfg.Manager == config.ManagerService || (cfg.Manager == config.ManagerAuto && runtime.GOOS == "windows")
}

// Locator finds what the configuration leaves out on Windows: the program
// and data directories (the registry) and the service (the service list).
type Locator struct {
	Registry func() (lotus, data string)         // Domino's install paths; "" when unknown
	Services func(dirs []string) (string, error) // the one service running a program under dirs
}

// DefaultLocator reads the registry and the service control manager.
func DefaultLocator(log *zap.Logger) Locator {
	return Locator{Registry: registryPaths, Services: func(dirs []string) (string, error) { return service.Discover(dirs, log) }}
}

// resolveService fills in, for a Windows service, the program directory,
// data directory and service name the configuration does not give. A
// setting still at its Linux default counts as not given.
func resolveService(cfg config.File, loc Locator, log *zap.Logger) (config.File, error) {
	cfg.Manager = config.ManagerService
	regLotus, regData := "", ""
	if loc.Registry != nil {
		regLotus, regData = loc.Registry()
	}
	oldData := cfg.Data
	if cfg.Lotus == config.DefaultLotus {
		cfg.Lotus = first(regLotus, DefaultWindowsLotus)
		log.Info("program directory", zap.String("lotus", cfg.Lotus), zap.Bool("from_registry", regLotus != ""))
	}
	if cfg.Data == config.DefaultData {
		cfg.Data = first(regData, filepath.Join(cfg.Lotus, windowsDataDir))
		log.Info("data directory", zap.String("data", cfg.Data), zap.Bool("from_registry", regData != ""))
	}
	if cfg.OutputLog == filepath.Join(oldData, cfg.User+".log") {
		cfg.OutputLog = filepath.Join(cfg.Data, cfg.User+".log")
	}
	if cfg.InputFile == filepath.Join(oldData, cfg.User+".input") {
		cfg.InputFile = filepath.Join(cfg.Data, cfg.User+".input")
	}
	if cfg.Service == "" {
		name, err := "", fmt.Errorf("no service lookup")
		if loc.Services != nil {
			name, err = loc.Services([]string{cfg.Lotus})
		}
		if err != nil || name == "" {
			msg := fmt.Sprintf("no single Windows service runs a program under %s: name it (service = Lotus Domino Server (LotusDominoData))", cfg.Lotus)
			if err != nil {
				msg += " (" + err.Error() + ")"
			}
			return cfg, &config.Error{File: cfg.Source, Key: cfg.Key(config.SetService), Msg: msg}
		}
		log.Info("service discovered", zap.String("service", name))
		cfg.Service = name
	}
	return cfg, nil
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// serviceMatcher: every process running a program under the program
// directory, whoever owns it (services run as LocalSystem or a service
// account; the directory is Domino's alone).
func serviceMatcher(lotus string) proc.Matcher {
	return proc.Matcher{UID: -1, Prefixes: []string{lotus}}
}

// stopService asks the service control manager to stop the service; the
// returned channel delivers the outcome.
func (s *Server) stopService(ctx context.Context) <-chan error {
	done := make(chan error, 1)
	go func() {
		err := s.svc.Stop(ctx)
		if err != nil {
			s.log.Warn("service stop request failed; waiting for the processes, then escalating", zap.Error(err))
		}
		done <- err
	}()
	return done
}

// startService starts the service through the service control manager.
// died delivers a failed start: the start request failing, or the service
// stopping again before the server is ready. running is closed once the
// service control manager reports the service running.
func (s *Server) startService(ctx context.Context) (died <-chan error, running <-chan struct{}) {
	d, r := make(chan error, 1), make(chan struct{})
	start := s.svc.Start
	if ss, ok := s.svc.(stoppedStarter); ok {
		start = ss.StartStopped // Start has seen that no process of the server runs
	}
	go func() {
		exited, err := start(ctx)
		if err != nil {
			d <- s.serviceStartError(err)
			close(r)
			return
		}
		close(r)
		if exited == nil {
			return
		}
		select {
		case err := <-exited:
			if s.awaitMainGone(ctx) {
				d <- s.serviceStartError(err)
			}
		case <-ctx.Done():
		}
	}()
	return d, r
}

// awaitMainGone waits, after the service control manager reported the
// service stopped during start-up, until no main server process runs,
// and reports whether that happened before ctx ended. A stop is believed
// only when seen: wine's service control manager can mark a service
// stopped when its previous process's exit reaches it late, while the
// new server runs on and becomes ready (which ends ctx).
func (s *Server) awaitMainGone(ctx context.Context) bool {
	warned := false
	for {
		if !s.mainRunning() {
			return true
		}
		if !warned {
			warned = true
			s.log.Warn("the service control manager reports the service stopped during start-up, but the server runs; waiting for it to be ready or gone")
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// mainRunning reports whether a main server process of this server runs.
func (s *Server) mainRunning() bool {
	procs, err := s.Processes()
	return err == nil && hasMain(procs)
}

// stoppedStarter is a service manager that can start a service whose
// processes are known to be gone, whatever state it still reports.
type stoppedStarter interface {
	StartStopped(ctx context.Context) (<-chan error, error)
}

func (s *Server) serviceStartError(err error) error {
	log := filepath.Join(s.cfg.Data, consoleLog)
	return &StartError{Service: s.cfg.Service, Cause: err, Tail: s.tail(log, 5), Log: log}
}

// isMainName reports whether a process name is the main server process:
// server (or its launcher) on Linux, nserver.exe on Windows.
func isMainName(name string) bool {
	return name == "server" || strings.EqualFold(name, "nserver.exe")
}
