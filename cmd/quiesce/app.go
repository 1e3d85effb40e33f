package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"
	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/engine"
	"github.com/quiesce/quiesce/core/proc"
	"github.com/quiesce/quiesce/vendors/hook"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// stdio is where a run writes, and the binary it runs from (to start the
// watchdog; empty in in-process tests, where no watchdog is started).
type stdio struct {
	out, err io.Writer
	self     string
}

// rcDominoName is the name under which quiesce replaces the rc_domino
// start script (a symlink /etc/init.d/rc_domino -> quiesce).
const rcDominoName = "rc_domino"

// run executes one command line and returns the process exit code.
func run(args []string, io stdio) int { return runWith(args, io, adapters()) }

// runWith runs a command line with the callers of reg.
func runWith(args []string, io stdio, reg hook.Registry) int { return runMethods(args, io, reg, nil) }

// runMethods runs a command line with the callers of reg and the freeze
// methods of methods (nil: engine.Methods()).
func runMethods(args []string, io stdio, reg hook.Registry, methods engine.Registry) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	args, _ = reg.Invoked(args)
	if stdoutOnly(reg, args) {
		io.err = io.out // e.g. Veeam fails a job on any byte on stderr
	}
	prog := filepath.Base(args[0])
	env := &env{io: io, prog: prog, clock: newClock(), source: proc.NewSystem(), adapters: reg, methods: methods}
	defer env.close()
	app := newApp(env)
	markUsageErrors(app)
	err := app.RunContext(ctx, args)
	if err == nil && env.exit != ExitOK {
		err = &exitError{code: env.exit}
	}
	code := exitCode(err)
	if msg := message(prog, err); msg != "" {
		fmt.Fprintln(io.err, msg)
	}
	env.log.Info("exit", zap.Int("code", code))
	return code
}

// clockOffsetEnv names a file whose duration shifts quiesce's wall clock
// (clock.Shifted): how tests step the clock of every quiesce process they
// start, the watchdogs included, without touching the machine's.
const clockOffsetEnv = "QUIESCE_TEST_CLOCK_OFFSET_FILE"

// newClock is the real clock, shifted when the test clock is set.
func newClock() clock.Clock {
	if f := os.Getenv(clockOffsetEnv); f != "" {
		return clock.Shifted{File: f}
	}
	return clock.Real{}
}

// stdoutOnly reports whether the command line runs a caller that fails
// on any byte on standard error.
func stdoutOnly(reg hook.Registry, args []string) bool {
	return reg.StdoutOnly(args, func(flag string) bool {
		switch flag {
		case "config", "c", "state-dir", "log-file":
			return true
		}
		return false
	})
}

// env is what the commands share within one run.
type env struct {
	io         stdio
	prog       string
	clock      clock.Clock
	source     proc.Source
	adapters   hook.Registry
	log        *zap.Logger
	logClose   func()
	logPath    string
	logFile    *os.File        // the log file, handed down to a database lock's holder
	logProblem string          // why the log file could not be opened, for check and status
	eng        *engine.Engine  // the applications and their freeze sessions, once built
	methods    engine.Registry // the freeze methods (nil: engine.Methods())
	cfg        *config.File    // the configuration, once loaded
	exit       int             // set when the command line named no command
}

func (e *env) close() {
	if e.logClose != nil {
		e.logClose()
	}
}

func newApp(e *env) *cli.App {
	e.log = zap.NewNop()
	if e.adapters == nil {
		e.adapters = adapters()
	}
	usage := "make hypervisor snapshots application-consistent"
	if e.prog == rcDominoName {
		usage = "drop-in replacement for the Domino start script (rc_domino), run by quiesce"
	}
	app := &cli.App{
		Name:      e.prog,
		Usage:     usage,
		Version:   version,
		Writer:    e.io.out,
		ErrWriter: e.io.err,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, EnvVars: []string{"QUIESCE_CONFIG"},
				Usage: configUsage(e.configDefaults())},
			&cli.StringFlag{Name: "state-dir", EnvVars: []string{"QUIESCE_STATE_DIR"}, Usage: stateDirUsage()},
			&cli.StringFlag{Name: "log-file", EnvVars: []string{"QUIESCE_LOG_FILE"}, Usage: logFileUsage()},
		},
		Commands:        commands(e),
		HideHelpCommand: true,
		ExitErrHandler:  func(*cli.Context, error) {}, // exit codes are decided in run
		CommandNotFound: func(c *cli.Context, name string) { e.unknownCommand(name) },
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				e.unknownCommand(c.Args().First())
				return &exitError{code: e.exit}
			}
			_ = cli.ShowAppHelp(c)
			return &exitError{code: ExitUsage}
		},
	}
	app.Commands = append(app.Commands, &cli.Command{
		Name:  "version",
		Usage: "print the version",
		Action: func(c *cli.Context) error {
			fmt.Fprintf(e.io.out, "quiesce %s\n", version)
			return nil
		},
	})
	app.Commands = noArgs(e, app.Commands)
	return app
}

func commands(e *env) []*cli.Command {
	var all []*cli.Command
	for _, group := range [][]*cli.Command{serviceCommands(e), callerCommands(e), installCommands(e), recoveryCommands(e), {checkCommand(e), dominoBackupCommand(e), holdCommand(e)}} {
		all = append(all, group...)
	}
	all = append(observed(e, all), historyCommand(e), verifyCommand(e))
	all = append(all, docsCommands(e)...) // hidden: man page and completion (cmd_docs.go)
	return all
}

// commandPath is the command's words after the program name ("install
// vmware").
func commandPath(c *cli.Context, prog string) string {
	var words []string
	for _, l := range c.Lineage() {
		if l.Command != nil && l.Command.Name != "" && l.Command.Name != prog {
			words = append([]string{l.Command.Name}, words...)
		}
	}
	return strings.Join(words, " ")
}

// noArgs makes a word after a command that takes none (start, stop,
// status, ...) a usage error that names it: "quiesce stop now" must not
// stop Domino as if "now" meant something.
func noArgs(e *env, cmds []*cli.Command) []*cli.Command {
	for _, cmd := range cmds {
		noArgs(e, cmd.Subcommands)
		if cmd.Action == nil || cmd.ArgsUsage != "" || cmd.SkipFlagParsing || len(cmd.Subcommands) > 0 {
			continue // it takes words of its own (a caller's, check's callers, install's caller)
		}
		action := cmd.Action
		cmd.Action = func(c *cli.Context) error {
			if c.NArg() > 0 {
				name := commandPath(c, e.prog)
				return &exitError{code: ExitUsage, msg: fmt.Sprintf("%s %s: unexpected argument %q: %s takes none (see %s %s --help)",
					e.prog, name, c.Args().First(), name, e.prog, name)}
			}
			return action(c)
		}
	}
	return cmds
}

// configDefaults are the files tried when no --config is given: under the
// rc_domino name only the start script's own file.
func (e *env) configDefaults() []string {
	if e.prog == rcDominoName {
		return []string{config.RcDominoConfig}
	}
	if runtime.GOOS == "windows" {
		return []string{windowsConfig()}
	}
	return config.DefaultPaths
}

// windowsConfig is quiesce.conf's place on Windows, beside the state and
// the log: %ProgramData%\quiesce\quiesce.conf.
func windowsConfig() string {
	return filepath.Join(os.Getenv("ProgramData"), "quiesce", "quiesce.conf")
}

// rcDominoCommands are the start script's commands that quiesce does not
// provide: under the rc_domino name they are "unimplemented" (3), not
// usage errors.
var rcDominoCommands = map[string]bool{
	"monitor": true, "live": true, "cleanup": true, "nsd": true, "kill": true, "info": true,
	"cmd": true, "statusd": true, "archivelog": true, "clearlog": true, "resources": true,
}

func (e *env) unknownCommand(name string) {
	if e.prog == rcDominoName && rcDominoCommands[name] {
		fmt.Fprintf(e.io.err, "%s: %q is not provided by quiesce's rc_domino (start, stop, restart, status are); use the original start script for it\n", e.prog, name)
		e.exit = ExitUnimplemented
		return
	}
	fmt.Fprintf(e.io.err, "%s: unknown command %q (see %s --help)\n", e.prog, name, e.prog)
	e.exit = ExitUsage
}

// config loads the configuration once and sets up the log file next to it.
func (e *env) config(c *cli.Context) (config.File, error) {
	if e.cfg != nil {
		return *e.cfg, nil
	}
	path, err := config.Find(c.String("config"), e.configDefaults())
	if err != nil {
		return config.File{}, &actionError{err}
	}
	cfg, err := config.Load(path)
	if err != nil {
		return config.File{}, &actionError{err}
	}
	e.openLog(c.String("log-file"), cfg)
	e.log.Info("invoked", zap.Strings("args", os.Args), zap.String("config", path), zap.String("version", version),
		zap.Int("uid", os.Geteuid()))
	for _, w := range cfg.Warnings {
		e.log.Warn("configuration warning", zap.String("warning", w))
	}
	e.cfg = &cfg
	return cfg, nil
}

// target is the Domino server the configuration describes.
func (e *env) target(c *cli.Context) (*domino.Server, error) {
	eng, err := e.engine(c)
	if err != nil {
		return nil, err
	}
	if eng.Domino() == nil {
		return nil, &actionError{&config.Error{File: eng.Config().Source, Msg: "no [domino] section: start, stop, restart and status manage Domino (freeze and thaw cover every [target])"}}
	}
	return eng.Domino(), nil
}
