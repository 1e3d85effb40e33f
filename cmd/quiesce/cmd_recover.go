package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"
	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/proc"
	"github.com/quiesce/quiesce/core/state"
)

func recoveryCommands(e *env) []*cli.Command {
	return []*cli.Command{
		{
			Name:  "recover",
			Usage: "settle what an interrupted run, an expired freeze or a reboot left, and clean up after a killed server",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "boot", Usage: "at boot: every freeze from before the reboot is void"},
				&cli.BoolFlag{Name: "no-start", Usage: "do not start the application (its own unit starts it at boot)"},
			},
			Action: e.recoverAction,
		},
		{Name: "watchdog", Hidden: true, Usage: "guard a freeze until it is thawed or expires (started by freeze)", Action: e.watchdogAction,
			Flags: []cli.Flag{&cli.StringFlag{Name: "instance", Usage: "the application instance whose freeze to guard (its key)"},
				&cli.StringFlag{Name: "target", Value: domino.TargetName, Usage: "as version 1 named it"}}},
	}
}

func (e *env) recoverAction(c *cli.Context) error {
	eng, err := e.engine(c)
	if err != nil {
		return err
	}
	store, err := eng.Store()
	if err != nil {
		return &actionError{err}
	}
	ss, err := eng.Sessions()
	if err != nil {
		return &actionError{err}
	}
	for _, s := range ss {
		name := s.Instance().Name
		if err := e.moveCorrupt(store, s.Key(), name); err != nil {
			return &actionError{err}
		}
		if c.Bool("no-start") {
			if err := s.Disown(c.Context, "recover --no-start"); err != nil {
				return &actionError{err}
			}
		}
		res, err := s.Recover(c.Context, c.Bool("boot"))
		if err != nil {
			return &actionError{fmt.Errorf("%s: %w", name, err)}
		}
		e.say("%s: %s", name, res.Message)
	}
	srv := eng.Domino()
	if srv == nil {
		return nil
	}
	cl, err := srv.Cleanup(c.Context)
	if err != nil {
		return &actionError{err}
	}
	if len(cl.Killed)+len(cl.Files)+len(cl.IPC) > 0 {
		e.say("cleaned up after a killed server: killed %v, removed %v, IPC %v", proc.Names(cl.Killed), cl.Files, cl.IPC)
	}
	return nil
}

// moveCorrupt moves a corrupt state record aside so that the next run
// starts clean, and says so; the application is left as it is.
func (e *env) moveCorrupt(store *state.Store, key, name string) error {
	_, err := store.Load(key)
	var ce *state.CorruptError
	if !errors.As(err, &ce) {
		return nil
	}
	aside := ce.Path + ".corrupt-" + time.Now().UTC().Format("20060102T150405Z")
	if err := os.Rename(ce.Path, aside); err != nil {
		return err
	}
	e.log.Error("corrupt state moved aside", zap.String("file", aside), zap.Error(ce.Err))
	e.say("corrupt state file moved to %s; check whether %s should be running", aside, name)
	return nil
}

func (e *env) watchdogAction(c *cli.Context) error {
	spareFromOOM(e.log)
	eng, err := e.engine(c)
	if err != nil {
		return err
	}
	key := c.String("instance")
	if key == "" {
		key = c.String("target") // a watchdog started by version 1
	}
	s, err := eng.Session(key)
	if err != nil {
		return &actionError{err}
	}
	if err := s.Watch(c.Context); err != nil {
		return &actionError{err}
	}
	return nil
}

// spawnWatchdog starts "quiesce watchdog" for an instance, so that it
// outlives this process and its caller: where systemd runs (and quiesce is
// root) as a transient service systemd restarts should the watchdog die
// (killed, or picked by the OOM killer), else detached (its own session,
// no standard streams). Either way it asks the kernel to spare it from
// the OOM killer (watchdogAction).
func (e *env) spawnWatchdog(cfgPath, stateDir, instance string) error {
	if e.io.self == "" {
		e.log.Warn("no watchdog: not running from the quiesce binary")
		return nil
	}
	args := []string{"--config", cfgPath, "--state-dir", stateDir}
	if e.logPath != "" {
		args = append(args, "--log-file", e.logPath)
	}
	args = append(args, "watchdog", "--instance", instance)
	if unit, err := e.spawnSupervised(instance, filepath.Dir(stateDir), args); err == nil {
		e.log.Info("watchdog armed", zap.String("watchdog_unit", unit))
		return nil
	} else if !errors.Is(err, errNoSupervisor) {
		e.log.Warn("cannot start the watchdog under systemd; starting it detached, without a supervisor", zap.Error(err))
	}
	cmd := exec.Command(e.io.self, args...)
	cmd.Dir = filepath.Dir(stateDir)
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start watchdog: %w", err)
	}
	e.log.Info("watchdog armed", zap.Int("watchdog_pid", cmd.Process.Pid))
	return cmd.Process.Release()
}
