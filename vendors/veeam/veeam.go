// Package veeam is the adapter for Veeam Backup & Replication guest
// processing (and the Veeam Agents): pre-freeze and post-thaw scripts run
// with no arguments, exit code 0 means success, a script has 10 minutes,
// and on Linux any byte on stderr fails the job. Everything this adapter
// says goes to stdout, where Veeam shows it in the job session.
package veeam

import (
	"context"
	"fmt"
	"time"

	"github.com/quiesce/quiesce/vendors/hook"
)

// Name of the caller in state, logs and configuration.
const Name = "veeam"

// DefaultBudget: Veeam terminates a script after 600 s.
const DefaultBudget = 10 * time.Minute

// Exit codes.
const (
	ExitOK     = 0
	ExitFailed = 1
)

// Usage lists the operations.
const Usage = "usage: quiesce veeam pre-freeze|post-thaw"

// Run handles one invocation and returns the exit code. It writes only to
// req.Stdout.
func Run(ctx context.Context, req hook.Request) (code int) {
	out := req.Stdout
	defer func() {
		if r := recover(); r != nil { // never let a crash reach stderr
			fmt.Fprintf(out, "quiesce: internal error: %v\n", r)
			code = ExitFailed
		}
	}()
	if len(req.Args) != 1 {
		fmt.Fprintln(out, Usage)
		return ExitFailed
	}
	var op hook.Op
	switch req.Args[0] {
	case "pre-freeze":
		op = hook.Freeze
	case "post-thaw":
		op = hook.Thaw
	default:
		fmt.Fprintf(out, "quiesce veeam: unknown script %q; %s\n", req.Args[0], Usage)
		return ExitFailed
	}
	res, err := hook.Do(ctx, req, op, Name, "", DefaultBudget)
	fmt.Fprintln(out, "quiesce "+Name+" "+req.Args[0]+": "+hook.Summary(op, res, err))
	if err != nil {
		return ExitFailed
	}
	return ExitOK
}
