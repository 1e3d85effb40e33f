package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/urfave/cli/v2"
	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/generic"
	"github.com/quiesce/quiesce/core/state"
	"github.com/quiesce/quiesce/vendors/hook"
)

// openFreezer builds the freeze engine over every configured application.
func (e *env) openFreezer(c *cli.Context, callerName string) (hook.Opened, error) {
	fs, cfg, err := e.freezers(c)
	if err != nil {
		return hook.Opened{}, err
	}
	if cfg.HasDomino {
		aside, why := domino.StandsAside(cfg, callerName)
		if why != "" {
			e.log.Info(why, zap.String("caller", callerName), zap.Bool("stands_aside", aside))
		}
		if aside {
			fs = fs[1:] // Domino is first
			if len(fs) == 0 {
				return hook.Opened{Op: freeze.Aside{Why: why}, Limits: configuredLimits(cfg, callerName), Log: e.log}, nil
			}
		}
	}
	var op freeze.Operator = freeze.Group{Members: fs}
	if len(fs) == 1 {
		op = fs[0]
	}
	if on, err := e.onlineOperator(c, cfg, fs); err != nil {
		return hook.Opened{}, err
	} else if on != nil {
		op = on
	}
	return hook.Opened{Op: op, Limits: configuredLimits(cfg, callerName), Log: e.log}, nil
}

// freezers opens every configured application (Domino first, then the
// [target] sections in order), each with its freeze engine and a watchdog
// that runs this binary detached.
func (e *env) freezers(c *cli.Context) ([]*freeze.Freezer, config.File, error) {
	cfg, err := e.config(c)
	if err != nil {
		return nil, cfg, err
	}
	dir := e.stateDir(c, cfg)
	store, err := state.Open(dir)
	if err != nil {
		return nil, cfg, &actionError{err}
	}
	pol := freeze.Policy{ContinueForced: cfg.Freeze.ForcedStop == config.ForcedStopContinue,
		LockWait: cfg.Freeze.LockWait, WatchdogMargin: cfg.Freeze.WatchdogMargin, Deadline: cfg.Freeze.Deadline}
	var targets []freeze.Target
	if cfg.HasDomino {
		srv, err := e.target(c)
		if err != nil {
			return nil, cfg, err
		}
		targets = append(targets, domino.Freezable{S: srv})
	}
	for _, g := range cfg.Targets {
		t, err := generic.New(g, cfg.Source, e.source, e.log, e.clock)
		if err != nil {
			return nil, cfg, &actionError{err}
		}
		targets = append(targets, t)
	}
	var out []*freeze.Freezer
	for _, t := range targets {
		name := t.Name()
		f := freeze.New(t, store, pol, e.log, e.clock)
		out = append(out, f.WithWatchdog(func() error { return e.spawnWatchdog(cfg.Source, dir, name) }))
	}
	return out, cfg, nil
}

// dominoFreezer is the freeze engine of the Domino target.
func (e *env) dominoFreezer(c *cli.Context) (*freeze.Freezer, error) {
	fs, cfg, err := e.freezers(c)
	if err != nil {
		return nil, err
	}
	if !cfg.HasDomino {
		return nil, &actionError{fmt.Errorf("%s: no [domino] section", cfg.Source)}
	}
	return fs[0], nil
}

// stateDir: --state-dir, then the configuration, then the platform
// default (/var/lib/quiesce as root, %ProgramData%\quiesce on Windows,
// the user's state directory otherwise).
func (e *env) stateDir(c *cli.Context, cfg config.File) string {
	if d := c.String("state-dir"); d != "" {
		return d
	}
	if cfg.Freeze.StateDir != "" {
		return cfg.Freeze.StateDir
	}
	switch {
	case runtime.GOOS == "windows":
		return filepath.Join(os.Getenv("ProgramData"), "quiesce")
	case os.Geteuid() == 0:
		return "/var/lib/quiesce"
	case os.Getenv("XDG_STATE_HOME") != "":
		return filepath.Join(os.Getenv("XDG_STATE_HOME"), "quiesce")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".local", "state", "quiesce")
}
