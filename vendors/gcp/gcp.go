// Package gcp is the adapter for the Google Cloud guest agent
// (google-guest-agent). For a disk snapshot with guest-flush the agent
// runs /etc/google/snapshots/pre.sh before the snapshot and post.sh after
// it, directly (no shell), with one argument: the disk list. It kills a
// script at [Snapshots] timeout_in_seconds (default 60) and reports exit
// code 124 as a timeout, any other non-zero code as a script error; after
// either, no snapshot is created. The agent only runs the scripts with
// [Snapshots] enabled = true in /etc/default/instance_configs.cfg.
package gcp

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/vendors/hook"
)

// Name of the caller in state, logs and configuration.
const Name = "gcp"

// DefaultTimeout is the agent's [Snapshots] timeout_in_seconds default.
const DefaultTimeout = 60 * time.Second

// Defaults are the agent's limits: each script is killed at the timeout.
var Defaults = hook.Limits{Budget: DefaultTimeout, Limits: freeze.Limits{Thaw: DefaultTimeout, Hard: true}}

// Exit codes. The agent reports 124 as "timed out" (SCRIPT_TIMED_OUT):
// quiesce returns it when the freeze was refused or ended because of the
// time limit, so that the agent's report points at the setting to change;
// any other failure is 1 (UNHANDLED_SCRIPT_ERROR).
const (
	ExitOK       = 0
	ExitFailed   = 1
	ExitBadArgs  = 2
	ExitTimedOut = 124
)

// Usage lists the operations.
const Usage = "usage: quiesce gcp pre|post DISKS"

// Run handles one invocation and returns the exit code.
func Run(ctx context.Context, req hook.Request) int {
	if len(req.Args) < 1 || len(req.Args) > 2 {
		fmt.Fprintln(req.Stderr, Usage)
		return ExitBadArgs
	}
	var op hook.Op
	switch req.Args[0] {
	case "pre":
		op = hook.Freeze
	case "post":
		op = hook.Thaw
	default:
		fmt.Fprintf(req.Stderr, "quiesce gcp: unknown operation %q\n%s\n", req.Args[0], Usage)
		return ExitBadArgs
	}
	disks := ""
	if len(req.Args) == 2 {
		disks = req.Args[1]
	}
	res, err := hook.Do(ctx, req, op, Name, "", limits(AgentConfig), "disks", disks)
	if !hook.Report(req, "quiesce gcp "+req.Args[0]+": "+hook.Summary(op, res, err), err) {
		if timedOut(err) {
			return ExitTimedOut
		}
		return ExitFailed
	}
	return ExitOK
}

// limits are the agent's limits as its configuration sets them: the
// timeout it kills a script at, for each script.
func limits(path string) hook.Limits {
	l := Defaults
	if t, err := ReadAgent(path); err == nil && t.Timeout > 0 {
		l.Budget, l.Thaw = t.Timeout, t.Timeout
	}
	return l
}

// timedOut: the freeze failed because of the caller's time limit.
func timedOut(err error) bool {
	var nf *freeze.NoFitError
	var nt *freeze.NoTimeLeftError
	return errors.As(err, &nf) || errors.As(err, &nt)
}

// Invocation recognises the binary itself linked as the agent's pre.sh or
// post.sh (the scripts install gcp writes call "quiesce gcp" instead).
func Invocation(argv0 string, args []string) ([]string, bool) {
	if filepath.Base(filepath.Dir(argv0)) != "snapshots" {
		return nil, false
	}
	switch strings.ToLower(filepath.Base(argv0)) {
	case "pre.sh":
		return append([]string{"pre"}, args...), true
	case "post.sh":
		return append([]string{"post"}, args...), true
	}
	return nil, false
}
