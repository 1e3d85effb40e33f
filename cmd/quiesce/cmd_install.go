package main

import (
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
		{Name: "uninstall", Usage: "remove a hook quiesce installed", Subcommands: uninstall},
	}
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
