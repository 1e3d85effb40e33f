package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/vendors/arcserve"
	"github.com/quiesce/quiesce/vendors/aws"
	"github.com/quiesce/quiesce/vendors/azure"
	"github.com/quiesce/quiesce/vendors/gcp"
	"github.com/quiesce/quiesce/vendors/hook"
	"github.com/quiesce/quiesce/vendors/nutanix"
	"github.com/quiesce/quiesce/vendors/qemu"
	"github.com/quiesce/quiesce/vendors/veeam"
	"github.com/quiesce/quiesce/vendors/vmware"
)

// adapters is the registry of callers that run a hook on this platform:
// the caller commands, install, uninstall and check iterate it.
func adapters() hook.Registry { return allAdapters().For(runtime.GOOS) }

// allAdapters is every caller. Adding a caller is its own package and one
// line here.
func allAdapters() hook.Registry {
	return hook.Registry{
		vmware.Adapter(),
		veeam.Adapter(),
		arcserve.Adapter(),
		qemu.Adapter(),
		nutanix.Adapter(),
		gcp.Adapter(),
		azure.Adapter(),
		aws.Adapter(),
	}
}

// callerCommands are the commands the callers run.
func callerCommands(e *env) []*cli.Command {
	var cmds []*cli.Command
	for _, a := range e.adapters {
		a := a
		cmds = append(cmds, &cli.Command{
			Name:            a.Name,
			Usage:           a.Usage,
			ArgsUsage:       a.Help.Args,
			Description:     helpText(a),
			Flags:           append(cliFlags(a.Help.Flags, ""), dryRunOption()),
			SkipFlagParsing: true,
			Action:          func(c *cli.Context) error { return e.runCaller(c, a) },
		})
	}
	return cmds
}

// runCaller runs one caller's invocation.
func (e *env) runCaller(c *cli.Context, a hook.Adapter) error {
	args := c.Args().Slice()
	if wantsHelp(args) {
		return showHelp(c)
	}
	if isDryRun(args) {
		return e.dryRun(c, a.Name)
	}
	req := hook.Request{Args: args, Getenv: os.Getenv, Stdout: e.io.out, Stderr: e.io.err,
		Open: func(name string) (hook.Opened, error) { return e.openFreezer(c, name) }}
	if code := a.Run(c.Context, req); code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// dryRunOption documents dryRunFlag among a caller command's options (the
// command parses its arguments itself).
func dryRunOption() cli.Flag {
	return &cli.BoolFlag{Name: strings.TrimPrefix(dryRunFlag, "--"), DisableDefaultText: true,
		Usage: "check what the hook needs (configuration, state, applications, permission); changes nothing"}
}

// helpText is the help body of a caller command.
func helpText(a hook.Adapter) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Run by the caller (see 'quiesce install %s'), not by hand.\n\nArguments:\n", a.Name)
	for _, w := range a.Help.Words {
		fmt.Fprintf(&b, "   %-13s %s\n", w.Name, w.What)
	}
	fmt.Fprintf(&b, "\nExit codes: %s.", a.Help.Exits)
	return b.String()
}

// cliFlags are an adapter's flags as command-line flags, named
// prefix+NAME (shared ones keep their name).
func cliFlags(fs []hook.Flag, prefix string) []cli.Flag {
	var out []cli.Flag
	for _, f := range fs {
		name := f.Name
		if !f.Shared {
			name = prefix + name
		}
		if f.Bool {
			out = append(out, &cli.BoolFlag{Name: name, Usage: f.Usage})
			continue
		}
		// DefaultText: the default as it is typed (urfave/cli would quote it).
		out = append(out, &cli.StringFlag{Name: name, Value: f.Default, DefaultText: f.Default, Usage: f.Usage})
	}
	return out
}

// locating are the flags of an adapter's install that tell check where
// its hook is.
func locating(a hook.Adapter) []hook.Flag {
	if a.Install == nil {
		return nil
	}
	var out []hook.Flag
	for _, f := range a.Install.Flags {
		if f.Locates {
			out = append(out, f)
		}
	}
	return out
}

// checkSite is the site check gives an adapter: its locating flags are
// check's NAME-FLAG ones.
func (e *env) checkSite(c *cli.Context, a hook.Adapter) site {
	names := map[string]string{}
	for _, f := range locating(a) {
		if !f.Shared {
			names[f.Name] = a.Name + "-" + f.Name
		}
	}
	return site{e: e, c: c, caller: a.Name, names: names}
}

// checkFlags are the locating flags of every adapter, once each.
func checkFlags(reg hook.Registry) []cli.Flag {
	var out []cli.Flag
	seen := map[string]bool{}
	for _, a := range reg {
		for _, f := range cliFlags(locating(a), a.Name+"-") {
			if n := f.Names()[0]; !seen[n] {
				seen[n] = true
				out = append(out, f)
			}
		}
	}
	return out
}

// site is the command line's side of an adapter's install, uninstall or
// check; names maps the adapter's flag names to check's (NAME-FLAG).
type site struct {
	e      *env
	c      *cli.Context
	caller string
	names  map[string]string
}

func (s site) name(flag string) string {
	if n, ok := s.names[flag]; ok {
		return n
	}
	return flag
}

func (s site) String(flag string) string             { return s.c.String(s.name(flag)) }
func (s site) Bool(flag string) bool                 { return s.c.Bool(s.name(flag)) }
func (s site) Say(format string, args ...any)        { s.e.say(format, args...) }
func (s site) Out() io.Writer                        { return s.e.io.out }
func (s site) Windows() bool                         { return isWindows() }
func (s site) DryRun(argv ...string) (string, error) { return dryRunHook(append(argv, dryRunFlag)...) }

func (s site) Command() (string, hook.Options, error) { return s.e.hookCommand(s.c) }

func (s site) Write(path string, write func() (string, error), runs string) error {
	return s.e.installChecked(s.caller, path, write, runs)
}

func (s site) Fail(format string, args ...any) error {
	return &exitError{code: ExitFailure, msg: fmt.Sprintf("%s: install %s: ", s.e.prog, s.caller) + fmt.Sprintf(format, args...)}
}

// done makes an adapter's install error the command's: its own exit
// errors as they are, any other an action error (exit 1 or the code its
// cause maps to).
func done(err error) error {
	var ee *exitError
	var ae *actionError
	if err == nil || errors.As(err, &ee) || errors.As(err, &ae) {
		return err
	}
	return &actionError{err}
}
