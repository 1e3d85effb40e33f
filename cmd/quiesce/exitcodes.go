package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/runas"
)

// Exit codes: the LSB init-script conventions, plus 150 from the range LSB
// leaves to applications. This table is the only place they are defined.
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

// actionError marks an error returned by a command's action, as opposed to
// one from parsing the command line.
type actionError struct{ err error }

func (e *actionError) Error() string { return e.err.Error() }
func (e *actionError) Unwrap() error { return e.err }

// exitCode decides the exit code for the error a command ended with.
func exitCode(err error) int {
	var ee *exitError
	var ae *actionError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	case !errors.As(err, &ae):
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
