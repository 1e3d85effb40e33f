package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/runas"
)

// Exit codes of quiesce's own commands (start, stop, restart, status,
// freeze, thaw, recover, check, install, ...): the LSB init-script
// conventions, plus 150 from the range LSB leaves to applications. The
// caller adapters answer with the codes their caller understands, defined
// in each adapter's package under vendors/ (ExitOK, ExitFailed or
// DefaultFailCode, ExitBadArgs, ...). exitcodes_test.go pins every number,
// here and in every adapter of the registry, and checks them against the
// docs and scripts/systemd/domino.service (SuccessExitStatus=150).
const (
	ExitOK            = 0   // success; status: running
	ExitFailure       = 1   // generic failure; status: dead, processes left without the server
	ExitUsage         = 2   // invalid or excess arguments
	ExitUnimplemented = 3   // unimplemented feature; status: stopped
	ExitPrivilege     = 4   // insufficient privilege; status: unknown
	ExitNotInstalled  = 5   // LOTUS does not hold Domino
	ExitNotConfigured = 6   // configuration missing or wrong
	ExitNotRunning    = 7   // the server is not running (start: it exited during start-up)
	ExitForcedStop    = 150 // stopped, but only by killing it (nsd -kill or signals)
)

// Status exit codes (LSB status action).
const (
	StatusRunning = 0
	StatusDead    = 1
	StatusStopped = 3
	StatusUnknown = 4
)

// exitError carries an exit code decided by a command, with an optional
// complete line for standard error.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// actionError marks an error returned by a command's action. The exit
// code no longer depends on it (any error but a usage error is decided by
// its cause, see exitCode); it remains as a marker for the reader.
type actionError struct{ err error }

func (e *actionError) Error() string { return e.err.Error() }
func (e *actionError) Unwrap() error { return e.err }

// usageError is a command line urfave/cli could not parse: an unknown
// flag, a flag without its value or with a value of the wrong type. Only
// these and a missing required flag (isRequiredFlagsError) exit ExitUsage,
// besides the commands' own argument checks, which return an exitError.
type usageError struct {
	cmd string // the command line's command, e.g. "quiesce stop"
	err error
}

func (e *usageError) Error() string {
	return fmt.Sprintf("%v (see %s --help)", e.err, e.cmd)
}
func (e *usageError) Unwrap() error { return e.err }

// markUsageErrors makes the app and every command in it return a
// *usageError for a command line that does not parse. urfave/cli calls
// OnUsageError for exactly those errors (and then prints nothing itself);
// a missing required flag is checked apart, see isRequiredFlagsError.
func markUsageErrors(app *cli.App) {
	onUsage := func(c *cli.Context, err error, _ bool) error {
		return &usageError{cmd: c.Command.HelpName, err: err}
	}
	app.OnUsageError = func(c *cli.Context, err error, _ bool) error {
		return &usageError{cmd: app.Name, err: err}
	}
	var mark func([]*cli.Command)
	mark = func(cmds []*cli.Command) {
		for _, c := range cmds {
			c.OnUsageError = onUsage
			mark(c.Subcommands)
		}
	}
	mark(app.Commands)
}

// isRequiredFlagsError reports whether err is urfave/cli's "Required flag
// not set". Its type is unexported; exitcodes_test.go fails if a new
// release of urfave/cli renames it.
func isRequiredFlagsError(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if fmt.Sprintf("%T", err) == "*cli.errRequiredFlags" {
			return true
		}
	}
	return false
}

// exitCode decides the exit code for the error a command ended with: an
// exitError's own code, ExitUsage for a command line that does not parse,
// the code of a known cause, and ExitFailure for any other error.
func exitCode(err error) int {
	var ee *exitError
	var ue *usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue), isRequiredFlagsError(err):
		return ExitUsage // the command line itself was wrong
	case errors.Is(err, domino.ErrNotInstalled):
		return ExitNotInstalled
	case errors.Is(err, config.ErrNoConfig), isConfigError(err):
		return ExitNotConfigured
	case errors.Is(err, runas.ErrPermission):
		return ExitPrivilege
	case errors.Is(err, domino.ErrStartFailed):
		return ExitNotRunning
	case errors.Is(err, context.Canceled):
		return ExitFailure
	}
	return ExitFailure
}

func isConfigError(err error) bool {
	var ce *config.Error
	return errors.As(err, &ce)
}

// message is the one line printed on standard error for err.
func message(prog string, err error) string {
	var ee *exitError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ee):
		return ee.msg // a complete line, or nothing
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Sprintf("%s: interrupted", prog)
	}
	return fmt.Sprintf("%s: %v", prog, err)
}
