package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/vendors/hook"
)

// installCommands are install and uninstall, with one subcommand for each
// caller in the registry that has a hook to put in place.
func installCommands(e *env) []*cli.Command {
	binary := &cli.StringFlag{Name: "binary", Usage: "quiesce binary the hook calls (default: this one)"}
	var install, uninstall []*cli.Command
	var names []string
	for _, a := range e.adapters {
		a := a
		in := a.Install
		if in == nil {
			continue
		}
		install = append(install, &cli.Command{Name: a.Name, Usage: in.Usage,
			Flags:  append([]cli.Flag{binary}, cliFlags(in.Flags, "")...),
			Action: func(c *cli.Context) error { return done(in.Install(site{e: e, c: c, caller: a.Name})) }})
		switch {
		case in.Uninstall != nil:
			uninstall = append(uninstall, &cli.Command{Name: a.Name, Usage: in.UninstallUsage,
				Flags:  cliFlags(in.UninstallFlags, ""),
				Action: func(c *cli.Context) error { return done(in.Uninstall(site{e: e, c: c, caller: a.Name})) }})
		case in.Elsewhere != "":
			uninstall = append(uninstall, &cli.Command{Name: a.Name, Usage: "nothing to remove on this machine: say where the settings are",
				Action: func(*cli.Context) error {
					e.say("nothing to remove: %s", in.Elsewhere)
					return nil
				}})
		}
		names = append(names, a.Name)
	}
	return []*cli.Command{
		{Name: "install", Subcommands: install,
			Usage: "put a caller's hook in place, or print what to paste into its console (" + strings.Join(names, ", ") + ")"},
		{Name: "uninstall", Usage: "remove a hook quiesce installed (--all: every caller's)", Subcommands: uninstall,
			Flags: append([]cli.Flag{&cli.BoolFlag{Name: "all", Usage: "remove every hook quiesce installed, for every caller, " +
				"where each caller runs it (the Windows MSI runs this when it is uninstalled)"}}, checkFlags(e.adapters)...),
			Action: e.uninstallAllAction},
	}
}

// uninstallAllAction is "uninstall --all": every caller's uninstall, where
// check looks for its hooks (the NAME-FLAG options move a place). A file
// in the way that quiesce did not write is left and named; any other
// failure is reported after the others were tried, and fails the command.
func (e *env) uninstallAllAction(c *cli.Context) error {
	if !c.Bool("all") {
		return &exitError{code: ExitUsage, msg: fmt.Sprintf("%s: uninstall: name a caller (see %s uninstall --help) or give --all", e.prog, e.prog)}
	}
	if c.NArg() > 0 {
		return &exitError{code: ExitUsage, msg: fmt.Sprintf("%s: uninstall --all takes no caller (got %q)", e.prog, c.Args().First())}
	}
	var failed []string
	for _, a := range e.adapters {
		in := a.Install
		if in == nil || in.Uninstall == nil {
			continue
		}
		remove := in.Uninstall
		if in.UninstallAll != nil {
			remove = in.UninstallAll
		}
		err := remove(e.checkSite(c, a))
		switch {
		case errors.Is(err, hook.ErrNotOurs):
			e.say("%s: left in place: %v", a.Name, err)
		case err != nil:
			e.say("%s: FAILED: %v", a.Name, err)
			failed = append(failed, a.Name)
		}
	}
	if len(failed) > 0 {
		return &exitError{code: ExitFailure, msg: fmt.Sprintf("%s: uninstall --all: could not remove the hooks of %s (see above)", e.prog, strings.Join(failed, ", "))}
	}
	return nil
}

// binaryPath is the quiesce binary hooks should call.
func binaryPath(c *cli.Context) (string, error) {
	if b := c.String("binary"); b != "" {
		return filepath.Abs(b)
	}
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(exe)
}

// hookCommand is the binary and the options an installed hook runs.
func (e *env) hookCommand(c *cli.Context) (string, hook.Options, error) {
	bin, err := binaryPath(c)
	if err != nil {
		return "", hook.Options{}, &actionError{err}
	}
	opts, err := e.hookOptions(c)
	return bin, opts, err
}
