// Package engine builds what a configuration describes: one freeze
// session per application instance (the Domino server, each [target]),
// each with the freeze methods its configuration asks for, over one state
// directory. It is the only place that knows which applications and
// methods exist; the command line gives it the parsed configuration and
// its dependencies, and keeps flags, output and exit codes.
package engine

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/generic"
	"github.com/quiesce/quiesce/core/holder"
	"github.com/quiesce/quiesce/core/proc"
	"github.com/quiesce/quiesce/core/state"
)

// Deps are what the engine is given rather than reaching for globals.
type Deps struct {
	Log    *zap.Logger
	Clock  clock.Clock
	Source proc.Source
	// StateDir is where records, locks and watchdogs live.
	StateDir string
	// Arm starts the watchdog of an instance (its key): a detached
	// process that runs its session's Watch. nil: no watchdog.
	Arm func(instance string) error
	// Methods is the registry of freeze methods; nil: Methods().
	Methods Registry
	// Holder starts the processes that keep a database's backup lock
	// from freeze to thaw (the quiesce binary's hold command); without
	// its Path no database can be frozen online.
	Holder holder.Launcher
	// Domino are the Domino server's own dependencies (a Windows service
	// locator, ...); Source, Log and Clock are filled in.
	Domino domino.Deps
}

// Engine is one configuration's applications, each a freeze session.
type Engine struct {
	cfg      config.File
	d        Deps
	store    *state.Store
	srv      *domino.Server    // nil without a Domino server
	targets  []*generic.Target // the [target]s, in start order
	sessions []*freeze.Session // Domino first, then the [target]s
	apps     []App             // the same order
}

// Open checks the configuration against the system and builds a session
// for each application instance it describes. The state directory is
// opened (created 0700) only by Store: a command that records nothing
// never creates it.
func Open(cfg config.File, d Deps) (*Engine, error) {
	if d.Log == nil {
		d.Log = zap.NewNop()
	}
	if d.Clock == nil {
		d.Clock = clock.Real{}
	}
	if d.Methods == nil {
		d.Methods = Methods()
	}
	e := &Engine{cfg: cfg, d: d}
	if err := e.openApps(); err != nil {
		return nil, err
	}
	return e, nil
}

// openApps builds the applications: Domino, then the [target]s.
func (e *Engine) openApps() error {
	if e.cfg.HasDomino {
		dd := e.d.Domino
		dd.Source, dd.Log, dd.Clock = e.d.Source, e.d.Log, e.d.Clock
		srv, err := domino.New(e.cfg, dd)
		if err != nil {
			return err
		}
		e.srv = srv
		e.apps = append(e.apps, App{Kind: domino.TargetName, Config: e.cfg, Domino: srv, Instance: srv.Instance()})
	}
	for _, g := range e.cfg.Targets {
		t, err := generic.New(g, e.cfg.Source, e.d.Source, e.d.Log, e.d.Clock)
		if err != nil {
			return err
		}
		e.targets = append(e.targets, t)
		a := App{Kind: "target", Config: e.cfg, Target: t, Generic: g, Instance: t.Instance()}
		if g.IsDatabase() {
			a.Kind, a.Instance = g.Kind, databaseInstance(g)
		}
		e.apps = append(e.apps, a)
	}
	return nil
}

// Config is the configuration the engine was built from.
func (e *Engine) Config() config.File { return e.cfg }

// Domino is the Domino server, nil when none is configured.
func (e *Engine) Domino() *domino.Server { return e.srv }

// Targets are the [target]s, in start order.
func (e *Engine) Targets() []*generic.Target { return e.targets }

// Apps are the applications, Domino first, then the [target]s.
func (e *Engine) Apps() []App { return e.apps }

// Store opens the state directory (creating it 0700 when missing).
func (e *Engine) Store() (*state.Store, error) {
	if e.store != nil {
		return e.store, nil
	}
	s, err := state.Open(e.d.StateDir)
	if err != nil {
		return nil, err
	}
	e.store = s
	return s, nil
}

// Policy is the freeze policy the configuration sets.
func (e *Engine) Policy() freeze.Policy {
	f := e.cfg.Freeze
	return freeze.Policy{ContinueForced: f.ForcedStop == config.ForcedStopContinue, LockWait: f.LockWait,
		WatchdogMargin: f.WatchdogMargin, Deadline: f.Deadline, CrashConsistent: f.Crashed == config.CrashedAccept}
}

// Sessions are the freeze sessions of every application, Domino first.
func (e *Engine) Sessions() ([]*freeze.Session, error) {
	if e.sessions != nil {
		return e.sessions, nil
	}
	store, err := e.Store()
	if err != nil {
		return nil, err
	}
	for _, a := range e.apps {
		s, err := e.session(a, store)
		if err != nil {
			return nil, err
		}
		e.sessions = append(e.sessions, s)
	}
	return e.sessions, nil
}

// session builds app's session with the methods its configuration asks
// for.
func (e *Engine) session(a App, store *state.Store) (*freeze.Session, error) {
	ms, fallback, err := e.d.Methods.For(a, e.d, e.Policy())
	if err != nil {
		return nil, err
	}
	key := a.Instance.Key()
	o := freeze.Options{Methods: ms, Fallback: fallback, Adopt: a.adopt}
	if e.d.Arm != nil {
		o.Arm = func() error { return e.d.Arm(key) }
	}
	return freeze.New(a.Instance, store, e.Policy(), e.d.Log, e.d.Clock, o), nil
}

// Session is the session of the instance key.
func (e *Engine) Session(key string) (*freeze.Session, error) {
	ss, err := e.Sessions()
	if err != nil {
		return nil, err
	}
	for _, s := range ss {
		if s.Key() == key {
			return s, nil
		}
	}
	// version 1 named its watchdogs by target ("domino", a [target]'s name)
	for i, a := range e.apps {
		for _, l := range a.Instance.Legacy {
			if l == key {
				return ss[i], nil
			}
		}
	}
	return nil, fmt.Errorf("%s describes no instance %q", e.cfg.Source, key)
}

// Operator is what caller freezes and thaws drive: every application's
// session as one group (frozen in reverse order, thawed in order), less
// Domino where its VSS writer makes the snapshot consistent for a
// VSS-aware caller. why says, when Domino's VSS writer is configured,
// what quiesce does about it.
func (e *Engine) Operator(caller string) (op freeze.Operator, why string, err error) {
	ss, err := e.Sessions()
	if err != nil {
		return nil, "", err
	}
	if e.srv != nil {
		aside := false
		aside, why = domino.StandsAside(e.cfg, caller)
		if aside {
			ss = without(ss, domino.TargetName)
			if len(ss) == 0 {
				return freeze.Aside{Why: why}, why, nil
			}
		}
	}
	if len(ss) == 1 {
		return ss[0], why, nil
	}
	return freeze.Group{Members: ss}, why, nil
}

// Rearm makes sure every freeze in place has a watchdog: one killed (or
// never started) is started again. It reports the instances it re-armed.
func (e *Engine) Rearm(ctx context.Context) ([]string, error) {
	ss, err := e.Sessions()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range ss {
		armed, err := s.Rearm(ctx)
		if err != nil {
			return out, fmt.Errorf("%s: %w", s.Instance().Name, err)
		}
		if armed {
			out = append(out, s.Instance().Name)
		}
	}
	return out, nil
}

// DominoSession is the Domino server's session; nil without a Domino
// server.
func (e *Engine) DominoSession() (*freeze.Session, error) {
	ss, err := e.Sessions()
	if err != nil {
		return nil, err
	}
	for _, s := range ss {
		if s.Instance().Kind == domino.TargetName {
			return s, nil
		}
	}
	return nil, nil
}

// without is ss less the sessions of instances of kind.
func without(ss []*freeze.Session, kind string) []*freeze.Session {
	var out []*freeze.Session
	for _, s := range ss {
		if s.Instance().Kind != kind {
			out = append(out, s)
		}
	}
	return out
}

// StateDir is where the records, locks and watchdogs are.
func (e *Engine) StateDir() string { return e.d.StateDir }
