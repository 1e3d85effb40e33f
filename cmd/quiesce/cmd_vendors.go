package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/state"
	"github.com/quiesce/quiesce/vendors/arcserve"
	"github.com/quiesce/quiesce/vendors/hook"
	"github.com/quiesce/quiesce/vendors/qemu"
	"github.com/quiesce/quiesce/vendors/veeam"
	"github.com/quiesce/quiesce/vendors/vmware"
)

// caller is one registered caller adapter.
type caller struct {
	name   string
	usage  string
	budget time.Duration
	run    func(c *cli.Context, req hook.Request) int
}

// callers is the one list of adapters.
var callers = []caller{
	{vmware.Name, "VMware Tools hook: freeze|freezeFail|thaw [ARG]", vmware.DefaultBudget, wrap(vmware.Run)},
	{veeam.Name, "Veeam pre-freeze|post-thaw script (never writes to stderr)", veeam.DefaultBudget, wrap(veeam.Run)},
	{arcserve.Name, "Arcserve UDP command: [--fail-code N] pre-snapshot|post-snapshot|post-backup", arcserve.DefaultBudget, wrap(arcserve.Run)},
	{qemu.Name, "qemu-guest-agent fsfreeze hook: freeze|thaw", qemu.DefaultBudget, wrap(qemu.Run)},
}

func wrap(run func(ctx context.Context, req hook.Request) int) func(*cli.Context, hook.Request) int {
	return func(c *cli.Context, req hook.Request) int { return run(c.Context, req) }
}

func vendorCommands(e *env) []*cli.Command {
	var cmds []*cli.Command
	for _, cl := range callers {
		cl := cl
		cmds = append(cmds, &cli.Command{
			Name:            cl.name,
			Usage:           cl.usage,
			SkipFlagParsing: true,
			Action: func(c *cli.Context) error {
				req := hook.Request{Args: c.Args().Slice(), Getenv: os.Getenv, Stdout: e.io.out, Stderr: e.io.err,
					Open: func(name string) (hook.Opened, error) { return e.openFreezer(c, name) }}
				if code := cl.run(c, req); code != 0 {
					return &exitError{code: code}
				}
				return nil
			},
		})
	}
	return cmds
}

// openFreezer builds the freeze engine for the configured target.
func (e *env) openFreezer(c *cli.Context, callerName string) (hook.Opened, error) {
	f, cfg, err := e.freezer(c)
	if err != nil {
		return hook.Opened{}, err
	}
	return hook.Opened{Op: f, Budget: cfg.Budgets.Get(callerName), Log: e.log}, nil
}

// freezer opens the target, its state store and the freeze engine, with a
// watchdog that runs this binary detached.
func (e *env) freezer(c *cli.Context) (*freeze.Freezer, config.Domino, error) {
	srv, err := e.target(c)
	if err != nil {
		return nil, config.Domino{}, err
	}
	cfg := srv.Config()
	dir := e.stateDir(c, cfg)
	store, err := state.Open(dir)
	if err != nil {
		return nil, cfg, &actionError{err}
	}
	pol := freeze.Policy{ContinueForced: cfg.Freeze.ForcedStop == config.ForcedStopContinue,
		LockWait: cfg.Freeze.LockWait, WatchdogMargin: cfg.Freeze.WatchdogMargin, Deadline: cfg.Freeze.Deadline}
	f := freeze.New(domino.Freezable{S: srv}, store, pol, e.log, e.clock)
	return f.WithWatchdog(func() error { return e.spawnWatchdog(cfg.Source, dir) }), cfg, nil
}

// stateDir: --state-dir, then the configuration, then the platform
// default (/var/lib/quiesce as root, %ProgramData%\quiesce on Windows,
// the user's state directory otherwise).
func (e *env) stateDir(c *cli.Context, cfg config.Domino) string {
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

// checkAction reports, for each caller, whether the configured timeouts
// fit its time budget.
func (e *env) checkAction(c *cli.Context) error {
	srv, err := e.target(c)
	if err != nil {
		return err
	}
	cfg := srv.Config()
	tt := domino.Freezable{S: srv}.Timeouts()
	e.say("Stop plan: graceful wait %s, then nsd -kill, SIGTERM, SIGKILL (each up to %s); start waits up to %s",
		tt.Shutdown, tt.KillWait, tt.Start)
	allFit := true
	for _, cl := range callers {
		budget := cfg.Budgets.Get(cl.name)
		if budget == 0 {
			budget = cl.budget
		}
		p := freeze.PlanFor(budget, tt)
		verdict := "fits"
		if !p.Fits() {
			verdict, allFit = "DOES NOT FIT", false
		}
		e.say("%-9s budget %-6s worst-case freeze %-8s margin %-6s %s", cl.name, budget, p.Worst.Round(time.Second), p.Margin, verdict)
		if adv := p.Advice(cfg.Key(config.SetShutdownTimeout)); adv != "" {
			e.say("          %s", adv)
		}
	}
	if !allFit {
		return &exitError{code: ExitFailure}
	}
	return nil
}

func checkCommand(e *env) *cli.Command {
	return &cli.Command{Name: "check", Usage: "check the configuration and whether its timeouts fit each caller's time budget", Action: e.checkAction}
}
