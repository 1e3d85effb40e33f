// Package domino stops, starts and inspects an HCL Domino server on Linux
// the way its own start script does, without its weaknesses: process
// discovery by owner and executable path, an event-driven wait for exit, a
// bounded escalation (nsd -kill, SIGTERM, SIGKILL) that reports how the
// stop ended, and a start that waits until the server is really serving.
// On Windows the same engine drives Domino's service through the service
// control manager (service.go).
package domino

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/proc"
	"github.com/quiesce/quiesce/core/ready"
	"github.com/quiesce/quiesce/core/runas"
	"github.com/quiesce/quiesce/core/service"
)

// DisabledFile in the data directory blocks every start, as in rc_domino.
const DisabledFile = "domino_disabled"

// Server is one Domino server as configured.
type Server struct {
	cfg   config.File
	acct  runas.Account
	match proc.Matcher
	src   proc.Source
	log   *zap.Logger
	clock clock.Clock
	svc   service.Manager // the Windows service, when Domino runs as one
}

// Deps are what the engine is given rather than reaching for globals.
type Deps struct {
	Source proc.Source
	Log    *zap.Logger
	Clock  clock.Clock
	// Windows service: what finds the paths and the service the
	// configuration leaves out (nil: the registry and the service list),
	// and what manages the service (nil: the service control manager).
	Locator *Locator
	Service func(name string) service.Manager
}

// New checks cfg against the system and returns the server it describes.
// Errors are *config.Error naming the setting that is wrong.
func New(cfg config.File, d Deps) (*Server, error) {
	if d.Log == nil {
		d.Log = zap.NewNop()
	}
	if d.Clock == nil {
		d.Clock = clock.Real{}
	}
	if byService(cfg) {
		return newService(cfg, d)
	}
	acct, err := validate(cfg)
	if err != nil {
		return nil, err
	}
	return &Server{
		cfg:   cfg,
		acct:  acct,
		match: proc.Matcher{UID: int32(acct.UID), Prefixes: notesDirs(cfg.Lotus)},
		src:   d.Source,
		log:   d.Log.With(zap.String("target", "domino"), zap.String("data", cfg.Data)),
		clock: d.Clock,
	}, nil
}

// newService is a Domino server run by a Windows service. Its tools
// (nsd.exe) run as quiesce's own account, as the service's do.
func newService(cfg config.File, d Deps) (*Server, error) {
	loc := DefaultLocator(d.Log)
	if d.Locator != nil {
		loc = *d.Locator
	}
	cfg, err := resolveService(cfg, loc, d.Log)
	if err != nil {
		return nil, err
	}
	if err := validatePaths(cfg); err != nil {
		return nil, err
	}
	log := d.Log.With(zap.String("target", "domino"), zap.String("data", cfg.Data), zap.String("service", cfg.Service))
	if d.Service == nil {
		d.Service = func(name string) service.Manager {
			w := service.NewWindowsService(name)
			w.Notice = func(msg string) { log.Warn(msg) }
			return w
		}
	}
	return &Server{
		cfg:   cfg,
		acct:  runas.Account{Name: "quiesce", UID: os.Geteuid(), GID: os.Getegid()},
		match: serviceMatcher(cfg.Lotus),
		src:   d.Source,
		log:   log,
		clock: d.Clock,
		svc:   d.Service(cfg.Service),
	}, nil
}

func validate(cfg config.File) (runas.Account, error) {
	bad := func(s config.Setting, format string, a ...any) error {
		e := &config.Error{File: cfg.Source, Key: cfg.Key(s), Msg: fmt.Sprintf(format, a...)}
		if s == config.SetLotus {
			e.Err = ErrNotInstalled
		}
		return e
	}
	acct, err := runas.Lookup(cfg.User)
	if err != nil {
		return acct, bad(config.SetUser, "user %q does not exist", cfg.User)
	}
	if acct.UID == 0 {
		return acct, bad(config.SetUser, "%q is root; Domino refuses to run as root", cfg.User)
	}
	return acct, validatePaths(cfg)
}

// validatePaths checks the program and data directories.
func validatePaths(cfg config.File) error {
	bad := func(s config.Setting, format string, a ...any) error {
		e := &config.Error{File: cfg.Source, Key: cfg.Key(s), Msg: fmt.Sprintf(format, a...)}
		if s == config.SetLotus {
			e.Err = ErrNotInstalled
		}
		return e
	}
	if st, err := os.Stat(cfg.Lotus); err != nil || !st.IsDir() {
		return bad(config.SetLotus, "program directory %s does not exist", cfg.Lotus)
	}
	if _, err := os.Stat(launcher(cfg.Lotus)); err != nil {
		return bad(config.SetLotus, "%s not found: is %s a Domino program directory?", launcher(cfg.Lotus), cfg.Lotus)
	}
	if st, err := os.Stat(cfg.Data); err != nil || !st.IsDir() {
		return bad(config.SetData, "data directory %s does not exist", cfg.Data)
	}
	return nil
}

// notesDirs are where the server's processes run from: LOTUS/notes (the
// server and its tasks) and LOTUS/bin (the launcher on its way to become
// the server, "server -q", nsd), with their resolved paths when LOTUS is a
// symlink: /proc shows resolved executable paths.
func notesDirs(lotus string) []string {
	var out []string
	for _, dir := range []string{filepath.Join(lotus, "notes"), filepath.Join(lotus, "bin")} {
		out = append(out, dir)
		if real, err := filepath.EvalSymlinks(dir); err == nil && real != dir {
			out = append(out, real)
		}
	}
	return out
}

// launcher is the server's start program: LOTUS/bin/server, on Windows
// nserver.exe in the program directory.
func launcher(lotus string) string {
	if runtime.GOOS == "windows" {
		return filepath.Join(lotus, "nserver.exe")
	}
	return filepath.Join(lotus, "bin", "server")
}

// nsdTool is Domino's diagnostics and kill tool.
func nsdTool(lotus string) string {
	if runtime.GOOS == "windows" {
		return filepath.Join(lotus, "nsd.exe")
	}
	return filepath.Join(lotus, "bin", "nsd")
}

// Config returns the server's configuration.
func (s *Server) Config() config.File { return s.cfg }

// Processes returns the server's processes now.
func (s *Server) Processes() ([]proc.Proc, error) { return s.src.Scan(s.match) }

// State is what Status found.
type State int

// States.
const (
	Stopped State = iota // no process
	Running              // the main server process exists
	Dead                 // tasks left without the main server process
)

func (st State) String() string {
	return [...]string{"stopped", "running", "dead"}[st]
}

// Status is the server's state with its processes.
type Status struct {
	State   State
	Procs   []proc.Proc
	Addr    string // NRPC address
	Serving bool   // NRPC port accepts connections
	Unit    string // the systemd unit managing it, if any
	Service string // the Windows service running it, if any
}

// Status inspects the server.
func (s *Server) Status() (Status, error) {
	procs, err := s.Processes()
	if err != nil {
		return Status{}, err
	}
	st := Status{Procs: procs, Addr: s.nrpcAddr(), Unit: s.unit(procs), Service: s.ServiceName()}
	switch {
	case len(procs) == 0:
		st.State = Stopped
	case hasMain(procs):
		st.State = Running
	default:
		st.State = Dead
	}
	if st.State == Running {
		st.Serving = ready.TCP{Addr: st.Addr}.Ready(context.Background())
	}
	return st, nil
}

// hasMain reports whether the main server process (or its launcher, which
// becomes it) is among procs.
func hasMain(procs []proc.Proc) bool {
	for _, p := range procs {
		if isMainName(p.Name) {
			return true
		}
	}
	return false
}

// Disabled reports whether the data directory blocks starts.
func (s *Server) Disabled() bool {
	_, err := os.Stat(filepath.Join(s.cfg.Data, DisabledFile))
	return err == nil
}

// canAct wraps runas.ErrPermission when quiesce cannot act as the user.
func (s *Server) canAct() error { return runas.CanActAs(s.acct) }

// ServiceName is the Windows service running the server, "" on Linux.
func (s *Server) ServiceName() string {
	if s.svc == nil {
		return ""
	}
	return s.cfg.Service
}
