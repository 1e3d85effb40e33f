// Package domino stops, starts and inspects an HCL Domino server on Linux
// the way its own start script does, without its weaknesses: process
// discovery by owner and executable path, an event-driven wait for exit, a
// bounded escalation (nsd -kill, SIGTERM, SIGKILL) that reports how the
// stop ended, and a start that waits until the server is really serving.
package domino

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/proc"
	"github.com/quiesce/quiesce/core/ready"
	"github.com/quiesce/quiesce/core/runas"
)

// DisabledFile in the data directory blocks every start, as in rc_domino.
const DisabledFile = "domino_disabled"

// Server is one Domino server as configured.
type Server struct {
	cfg   config.Domino
	acct  runas.Account
	match proc.Matcher
	src   proc.Source
	log   *zap.Logger
	clock clock.Clock
}

// Deps are what the engine is given rather than reaching for globals.
type Deps struct {
	Source proc.Source
	Log    *zap.Logger
	Clock  clock.Clock
}

// New checks cfg against the system and returns the server it describes.
// Errors are *config.Error naming the setting that is wrong.
func New(cfg config.Domino, d Deps) (*Server, error) {
	acct, err := validate(cfg)
	if err != nil {
		return nil, err
	}
	if d.Log == nil {
		d.Log = zap.NewNop()
	}
	if d.Clock == nil {
		d.Clock = clock.Real{}
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

func validate(cfg config.Domino) (runas.Account, error) {
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
	if st, err := os.Stat(cfg.Lotus); err != nil || !st.IsDir() {
		return acct, bad(config.SetLotus, "program directory %s does not exist", cfg.Lotus)
	}
	if _, err := os.Stat(launcher(cfg.Lotus)); err != nil {
		return acct, bad(config.SetLotus, "%s not found: is %s a Domino program directory?", launcher(cfg.Lotus), cfg.Lotus)
	}
	if st, err := os.Stat(cfg.Data); err != nil || !st.IsDir() {
		return acct, bad(config.SetData, "data directory %s does not exist", cfg.Data)
	}
	return acct, nil
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

func launcher(lotus string) string { return filepath.Join(lotus, "bin", "server") }
func nsdTool(lotus string) string  { return filepath.Join(lotus, "bin", "nsd") }

// Config returns the server's configuration.
func (s *Server) Config() config.Domino { return s.cfg }

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
}

// Status inspects the server.
func (s *Server) Status() (Status, error) {
	procs, err := s.Processes()
	if err != nil {
		return Status{}, err
	}
	st := Status{Procs: procs, Addr: s.nrpcAddr(), Unit: s.unit(procs)}
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
		if p.Name == "server" {
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
