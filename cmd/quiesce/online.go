package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/online"
	"github.com/quiesce/quiesce/core/state"
)

// onlineEngine opens the online engine of the configured Domino server;
// nil when the configuration freezes Domino by stopping it only.
func (e *env) onlineEngine(c *cli.Context, cfg config.File) (*online.Engine, error) {
	if !cfg.HasDomino || cfg.Online.Method == config.MethodStop {
		return nil, nil
	}
	srv, err := e.target(c)
	if err != nil {
		return nil, err
	}
	dir := e.stateDir(c, cfg)
	store, err := state.Open(dir)
	if err != nil {
		return nil, &actionError{err}
	}
	o := cfg.Online
	set := online.DefaultSettings
	set.EnterTimeout, set.MaxWindow, set.ReleaseTimeout, set.DeltaDir, set.LockWait = o.EnterTimeout, o.MaxWindow, o.ReleaseTimeout, o.DeltaDir, cfg.Freeze.LockWait
	eng := online.New(srv, store, set, e.log, e.clock)
	return eng.WithWatchdog(func() error { return e.spawnWatchdog(cfg.Source, dir, online.TargetName) }), nil
}

// onlineOperator is the freeze engine for Domino when its method allows
// online mode: Domino alone (with other applications configured, they are
// stopped, and so is Domino).
func (e *env) onlineOperator(c *cli.Context, cfg config.File, fs []*freeze.Freezer) (freeze.Operator, error) {
	if !cfg.HasDomino || cfg.Online.Method == config.MethodStop {
		return nil, nil
	}
	if len(fs) > 1 {
		if cfg.Online.Method == config.MethodOnline {
			return nil, &actionError{&config.Error{File: cfg.Source, Key: "domino.method", Msg: "online mode freezes Domino alone; with [target] sections configured use auto or stop"}}
		}
		return nil, nil
	}
	eng, err := e.onlineEngine(c, cfg)
	if err != nil {
		return nil, err
	}
	srv, _ := e.target(c)
	store, err := state.Open(e.stateDir(c, cfg))
	if err != nil {
		return nil, &actionError{err}
	}
	return &online.Operator{Method: cfg.Online.Method, Online: eng, Stop: fs[0], Store: store, Server: srv, Log: e.log, Clock: e.clock}, nil
}

// watchOnline is the watchdog of an online freeze.
func (e *env) watchOnline(c *cli.Context, cfg config.File) error {
	eng, err := e.onlineEngine(c, cfg)
	if err != nil {
		return err
	}
	if eng == nil {
		return &actionError{fmt.Errorf("%s: online mode is not configured", cfg.Source)}
	}
	store, err := state.Open(e.stateDir(c, cfg))
	if err != nil {
		return &actionError{err}
	}
	lock, err := store.Lock(c.Context, online.TargetName+".watchdog", "watchdog", 0)
	if errors.Is(err, state.ErrLocked) {
		e.log.Info("an online watchdog is running already")
		return nil
	}
	if err != nil {
		return &actionError{err}
	}
	defer lock.Unlock()
	e.log.Info("online watchdog started")
	if err := eng.Watch(c.Context); err != nil {
		return &actionError{err}
	}
	return nil
}
