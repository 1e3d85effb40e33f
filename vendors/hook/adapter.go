package hook

import (
	"context"
	"io"
	"strings"
)

// Adapter is one caller, as the command line offers it: the command the
// caller runs, its help, its limits, the names it runs the binary under,
// and how its hook is put in place. Each adapter package returns its own;
// the command line iterates the registry of them, so adding a caller
// touches its own package and one line of that registry.
type Adapter struct {
	Name     string // the command, and the caller's name in state, logs and [budgets]
	Usage    string // one line for the command list
	Help     Help
	Defaults Limits // the caller's documented limits
	Hints    Hints  // where an administrator sets them
	// Run handles one invocation and returns the exit code the caller
	// expects.
	Run func(ctx context.Context, req Request) int
	// Invoked recognises the binary run under one of the caller's own hook
	// names (copied or linked into its hook folder) and returns the
	// adapter's arguments; nil when the caller always runs "quiesce NAME".
	Invoked func(argv0 string, args []string) (adapterArgs []string, ok bool)
	// StdoutOnly: the caller fails on any byte on standard error, so
	// everything, even a crash, goes to standard output.
	StdoutOnly bool
	// Install puts the hook in place (or prints what to paste into the
	// caller's console); nil when there is nothing to install.
	Install *Installer
	// LinuxOnly: the caller runs a hook on Linux guests only (on Windows
	// its agent quiesces through VSS), so quiesce for Windows leaves it out.
	LinuxOnly bool
}

// Help documents a caller command, whose arguments the adapter parses
// itself.
type Help struct {
	Args  string // the arguments' synopsis
	Words []Word
	Flags []Flag // parsed by the adapter; listed in the help
	Exits string // the exit codes, in the caller's terms
}

// Word is one positional argument a caller passes, and what it does.
type Word struct{ Name, What string }

// Hints say where an administrator sets a caller's limits, for check's
// advice.
type Hints struct{ Budget, Thaw string }

// Flag is one option of a caller command, or of install, uninstall or
// check for a caller.
type Flag struct {
	Name    string
	Usage   string
	Default string
	Bool    bool
	// Locates: check takes it too, as NAME-FLAG (or as FLAG when
	// Shared), to find a hook installed somewhere else than the default.
	Locates bool
	Shared  bool
}

// Installer puts a caller's hook in place and takes it away.
type Installer struct {
	Usage          string // what "install NAME" does
	Flags          []Flag
	Install        func(s Site) error
	UninstallUsage string // "" when there is nothing to take away
	UninstallFlags []Flag
	Uninstall      func(s Site) error
	// UninstallAll, for "uninstall --all", removes every variant of the
	// hook quiesce may have installed (VMware's legacy scripts too); nil:
	// Uninstall with the flags' defaults.
	UninstallAll func(s Site) error
	// Elsewhere, for an installer that writes nothing on this machine (it
	// prints what to paste into the caller's console), says where the
	// settings it printed live: what "uninstall NAME" answers.
	Elsewhere string
	// Hooks are the places a hook of this caller that quiesce installed
	// may be, for check (Site answers the Locates flags).
	Hooks func(s Site) []string
	// Check adds the caller's own lines to check; false when its hook is
	// in place where the caller will not run it. nil: nothing to add.
	Check func(s Site) bool
}

// Site is the command line's side of an install, uninstall or check: the
// flags given, the binary and options a hook runs, output, and the checks
// that prove an installed hook works.
type Site interface {
	String(flag string) string
	Bool(flag string) bool
	Say(format string, args ...any)
	Out() io.Writer // where instructions are printed
	// Command is the quiesce binary a hook runs and the global options it
	// passes (the configuration install found, always).
	Command() (binary string, opts Options, err error)
	// Windows reports whether hooks are for Windows.
	Windows() bool
	// Write puts a hook file in place with write, then checks it with a
	// dry run of the installed file; when the check fails it puts back
	// what was there and fails. runs is the command line it runs.
	Write(path string, write func() (string, error), runs string) error
	// DryRun runs argv with --dry-run and returns its one-line report.
	DryRun(argv ...string) (string, error)
	// Fail is the error that ends an install whose check failed.
	Fail(format string, args ...any) error
}

// Registry is the list of adapters the command line offers, in the order
// it lists them.
type Registry []Adapter

// For is the registry of the callers that run a hook on goos.
func (r Registry) For(goos string) Registry {
	var out Registry
	for _, a := range r {
		if !a.LinuxOnly || goos == "linux" {
			out = append(out, a)
		}
	}
	return out
}

// Find returns the adapter named name.
func (r Registry) Find(name string) (Adapter, bool) {
	for _, a := range r {
		if a.Name == name {
			return a, true
		}
	}
	return Adapter{}, false
}

// Invoked returns the command line to run when the binary was started
// under one of a caller's hook names, and false otherwise.
func (r Registry) Invoked(argv []string) ([]string, bool) {
	for _, a := range r {
		if a.Invoked == nil {
			continue
		}
		if args, ok := a.Invoked(argv[0], argv[1:]); ok {
			return append([]string{"quiesce", a.Name}, args...), true
		}
	}
	return argv, false
}

// StdoutOnly reports whether the command line runs an adapter that must
// write nothing on standard error: its name is the first word after the
// global options (takesValue tells which of them take the next word as
// their value when written without "=").
func (r Registry) StdoutOnly(args []string, takesValue func(flag string) bool) bool {
	for i := 1; i < len(args); i++ {
		w := args[i]
		if strings.HasPrefix(w, "-") {
			if !strings.Contains(w, "=") && takesValue(strings.TrimLeft(w, "-")) {
				i++
			}
			continue
		}
		a, ok := r.Find(w)
		return ok && a.StdoutOnly
	}
	return false
}
