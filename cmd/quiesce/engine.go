package main

import (
	"os"
	"path/filepath"
	"runtime"

	"github.com/urfave/cli/v2"
	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/engine"
	"github.com/quiesce/quiesce/vendors/hook"
)

// engine builds the engine over every configured application (core
// assembles it from the configuration; the command line gives the
// logger, clock, process source, state directory and how to start a
// watchdog).
func (e *env) engine(c *cli.Context) (*engine.Engine, error) {
	if e.eng != nil {
		return e.eng, nil
	}
	cfg, err := e.config(c)
	if err != nil {
		return nil, err
	}
	dir := e.stateDir(c, cfg)
	eng, err := engine.Open(cfg, engine.Deps{Log: e.log, Clock: e.clock, Source: e.source, StateDir: dir, Methods: e.methods,
		Arm: func(instance string) error { return e.spawnWatchdog(cfg.Source, dir, instance) }, Holder: e.holderLauncher()})
	if err != nil {
		e.log.Error("configuration rejected", zap.Error(err))
		return nil, &actionError{err}
	}
	e.eng = eng
	return eng, nil
}

// openFreezer builds the freeze engine over every configured application
// for one caller.
func (e *env) openFreezer(c *cli.Context, callerName string) (hook.Opened, error) {
	eng, err := e.engine(c)
	if err != nil {
		return hook.Opened{}, err
	}
	op, why, err := eng.Operator(callerName)
	if err != nil {
		return hook.Opened{}, &actionError{err}
	}
	if why != "" {
		e.log.Info(why, zap.String("caller", callerName))
	}
	return hook.Opened{Op: op, Limits: configuredLimits(eng.Config(), callerName), Log: e.log}, nil
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
