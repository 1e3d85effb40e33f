// Package aws is the adapter for Amazon Data Lifecycle Manager's pre and
// post scripts: a snapshot policy that targets instances runs a custom SSM
// command document through SSM Agent with the parameter command set to
// pre-script before it initiates the snapshots, and to post-script after
// (dry-run validates the document and must change nothing). Each run has
// the policy's ExecutionTimeout (10 s by default, 10 to 120 s); the
// document's step timeout makes SSM Agent kill the script's whole process
// group at that limit. A failed pre-script: with
// ExecuteOperationOnScriptFailure true (the default) DLM takes a
// crash-consistent snapshot anyway; with false it skips the instance.
// AWS's sample documents exit 201 for a failed pre-script and 202 for a
// failed post-script; DLM reports the code in its EventBridge events.
package aws

import (
	"context"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"time"

	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/vendors/hook"
)

// Name of the caller in state, logs and configuration.
const Name = "aws"

// DLM's script timeout: default and minimum 10 s, at most 120 s, for the
// pre and the post script each.
const (
	DefaultTimeout = 10 * time.Second
	MinTimeout     = 10 * time.Second
	MaxTimeout     = 120 * time.Second
)

// Defaults are DLM's limits when nothing else is known. Hard: SSM Agent
// kills the script at the limit, so a stop that cannot fit is refused
// before anything is touched.
var Defaults = hook.Limits{Budget: DefaultTimeout, Limits: freeze.Limits{Thaw: DefaultTimeout, Hard: true}}

// Exit codes, as AWS's sample documents use them.
const (
	ExitOK          = 0
	ExitBadArgs     = 1   // "Invalid command parameter passed"
	ExitPreFailed   = 201 // pre-script failed during execution
	ExitPostFailed  = 202 // post-script failed during execution
	DryRunWord      = "dry-run"
	noExecutionID   = "None" // the document's default executionId
	executionIDFlag = "execution-id"
)

// Usage lists the operations.
const Usage = "usage: quiesce aws [--execution-timeout SECONDS] [--execution-id ID] pre-script|post-script|dry-run"

var executionID = regexp.MustCompile(`^(None|[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12})$`)

// Run handles one invocation and returns the exit code.
func Run(ctx context.Context, req hook.Request) int {
	fs := flag.NewFlagSet(Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	secs := fs.Int("execution-timeout", int(DefaultTimeout/time.Second), "the policy's ExecutionTimeout")
	id := fs.String(executionIDFlag, noExecutionID, "DLM's executionId")
	if err := fs.Parse(req.Args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(req.Stderr, Usage)
		return ExitBadArgs
	}
	limit := time.Duration(*secs) * time.Second
	if limit < MinTimeout || limit > MaxTimeout || !executionID.MatchString(*id) {
		fmt.Fprintf(req.Stderr, "quiesce aws: --execution-timeout must be 10 to 120 (seconds) and --execution-id a UUID or None\n%s\n", Usage)
		return ExitBadArgs
	}
	word := fs.Arg(0)
	var op hook.Op
	fail := ExitPreFailed
	switch word {
	case "pre-script":
		op = hook.Freeze
	case "post-script":
		op, fail = hook.Thaw, ExitPostFailed
	case DryRunWord: // DLM's document check: take no action
		fmt.Fprintln(req.Stdout, "quiesce aws dry-run: nothing done (the document quiesce install aws prints checks quiesce with 'aws pre-script --dry-run' here)")
		return ExitOK
	default:
		fmt.Fprintf(req.Stderr, "quiesce aws: unknown command %q\n%s\n", word, Usage)
		return ExitBadArgs
	}
	job := *id
	if job == noExecutionID {
		job = ""
	}
	limits := hook.Limits{Budget: limit, Limits: freeze.Limits{Thaw: limit, Hard: true}}
	res, err := hook.Do(ctx, hook.Within(req, limits), op, Name, job, limits, "execution_id", *id, "execution_timeout", strconv.Itoa(*secs)+"s")
	if !hook.Report(req, "quiesce "+Name+" "+word+": "+hook.Summary(op, res, err), err) {
		return fail
	}
	return ExitOK
}
