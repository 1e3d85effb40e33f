package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/core/clock"
)

// commandPaths lists every command and subcommand of the CLI (hidden ones
// too), each as its path of names below the program.
func commandPaths(cmds []*cli.Command, prefix []string) (paths [][]string, byPath map[string]*cli.Command) {
	byPath = map[string]*cli.Command{}
	var walk func([]*cli.Command, []string)
	walk = func(cmds []*cli.Command, prefix []string) {
		for _, c := range cmds {
			if c.Name == "help" {
				continue
			}
			p := append(append([]string{}, prefix...), c.Name)
			paths = append(paths, p)
			byPath[strings.Join(p, " ")] = c
			walk(c.Subcommands, p)
		}
	}
	walk(cmds, prefix)
	return paths, byPath
}

// Every command and subcommand answers --help and -h: exit 0, its help on
// stdout and nothing on stderr, with every flag and argument described.
func TestHelpEverywhere(t *testing.T) {
	for _, prog := range []string{"quiesce", rcDominoName} {
		app := newApp(&env{io: stdio{out: &bytes.Buffer{}, err: &bytes.Buffer{}}, prog: prog, clock: clock.Real{}})
		paths, byPath := commandPaths(app.Commands, nil)
		if len(paths) < 15 {
			t.Fatalf("only %d commands found: %v", len(paths), paths)
		}
		paths = append(paths, []string{}) // the program itself
		for _, p := range paths {
			name := strings.Join(p, " ")
			cmd := byPath[name]
			for _, flag := range []string{"--help", "-h"} {
				var out, errb bytes.Buffer
				args := append(append([]string{prog}, p...), flag)
				code := run(args, stdio{out: &out, err: &errb})
				if code != 0 || errb.Len() != 0 || out.Len() == 0 {
					t.Errorf("%s: exit %d, stdout %d bytes, stderr %q", strings.Join(args, " "), code, out.Len(), errb.String())
					continue
				}
				if cmd == nil {
					continue
				}
				checkDescribed(t, strings.Join(args, " "), cmd, out.String())
			}
		}
	}
}

// checkDescribed: the help names the command with its purpose, every flag
// with a description, and every positional argument of a caller command.
func checkDescribed(t *testing.T, args string, cmd *cli.Command, help string) {
	t.Helper()
	if cmd.Usage == "" || !strings.Contains(help, " - "+cmd.Usage) {
		t.Errorf("%s: no description of the command:\n%s", args, help)
	}
	for _, f := range cmd.Flags {
		df, ok := f.(cli.DocGenerationFlag)
		if !ok || df.GetUsage() == "" || !strings.Contains(help, "--"+f.Names()[0]) {
			t.Errorf("%s: flag --%s is not described:\n%s", args, f.Names()[0], help)
		}
	}
	if a, ok := adapters().Find(cmd.Name); ok && cmd.SkipFlagParsing {
		for _, w := range a.Help.Words {
			if !strings.Contains(help, w.Name+" ") || !strings.Contains(help, w.What) {
				t.Errorf("%s: argument %s is not described:\n%s", args, w.Name, help)
			}
		}
		// --dry-run is an option, not an argument.
		arguments, options, _ := strings.Cut(help, "OPTIONS:")
		if strings.Contains(arguments, "\n      "+dryRunFlag) || !strings.Contains(options, "\n   "+dryRunFlag) {
			t.Errorf("%s: %s is not among the options, or among the arguments:\n%s", args, dryRunFlag, help)
		}
		if strings.Contains(options, `(default: "`) {
			t.Errorf("%s: a default in quotes:\n%s", args, help)
		}
	}
}

// Every caller command is documented, and every operation word a caller
// accepts is one of its documented arguments.
func TestCallerHelpCoversEveryCaller(t *testing.T) {
	for _, a := range allAdapters() {
		d := a.Help
		if d.Args == "" || len(d.Words) == 0 || d.Exits == "" || a.Usage == "" || a.Run == nil {
			t.Errorf("caller %s has no argument help, exit codes, usage or run", a.Name)
			continue
		}
		for _, w := range d.Words {
			if !strings.Contains(d.Args, w.Name) {
				t.Errorf("%s: %s described but not in the synopsis %q", a.Name, w.Name, d.Args)
			}
		}
	}
}
