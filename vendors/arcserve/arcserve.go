// Package arcserve is the adapter for Arcserve UDP: the agentless plan's
// "Run a command before backup is started" / "after snapshot is taken" /
// "after backup is over" commands, and the UDP Linux agent's pre/post
// scripts. Which exit code fails the job is the plan's "On exit code" rule,
// so the failure code is settable (--fail-code). When the UDP agent's D2D_*
// variables are present the job is logged and a one-line summary becomes
// the first line of $D2D_PREPOST_OUTPUT, which the activity log shows.
package arcserve

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/quiesce/quiesce/vendors/hook"
)

// Name of the caller in state, logs and configuration.
const Name = "arcserve"

// DefaultBudget: not documented by Arcserve; set [budgets] arcserve.
const DefaultBudget = 10 * time.Minute

// Exit codes (the failure code can be changed with --fail-code).
const (
	ExitOK          = 0
	DefaultFailCode = 1
	ExitBadArgs     = 2
)

// Usage lists the operations.
const Usage = "usage: quiesce arcserve [--fail-code N] pre-snapshot|post-snapshot|post-backup"

// Job is the UDP agent's job description from its environment.
type Job struct{ Name, ID, Type, Stage, Output string }

// JobFrom reads the D2D_* variables.
func JobFrom(getenv func(string) string) Job {
	return Job{Name: getenv("D2D_JOBNAME"), ID: getenv("D2D_JOBID"), Type: getenv("D2D_JOBTYPE"),
		Stage: getenv("D2D_JOBSTAGE"), Output: getenv("D2D_PREPOST_OUTPUT")}
}

// Run handles one invocation and returns the exit code.
func Run(ctx context.Context, req hook.Request) int {
	fs := flag.NewFlagSet("arcserve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	failCode := fs.Int("fail-code", DefaultFailCode, "exit code for a failure")
	if err := fs.Parse(req.Args); err != nil || fs.NArg() != 1 || *failCode < 1 || *failCode > 255 {
		fmt.Fprintln(req.Stderr, Usage)
		return ExitBadArgs
	}
	word := fs.Arg(0)
	var op hook.Op
	switch word {
	case "pre-snapshot":
		op = hook.Freeze
	case "post-snapshot", "post-backup": // post-backup also thaws: harmless after post-snapshot
		op = hook.Thaw
	default:
		fmt.Fprintf(req.Stderr, "quiesce arcserve: unknown operation %q\n%s\n", word, Usage)
		return ExitBadArgs
	}
	job := JobFrom(req.Getenv)
	var details []string
	if job.ID != "" || job.Name != "" {
		details = []string{"job_name", job.Name, "job_id", job.ID, "job_type", job.Type, "job_stage", job.Stage}
	}
	res, err := hook.Do(ctx, req, op, Name, job.ID, DefaultBudget, details...)
	line := "quiesce " + Name + " " + word + ": " + hook.Summary(op, res, err)
	if job.Output != "" {
		if werr := writeFirstLine(job.Output, line); werr != nil {
			fmt.Fprintf(req.Stderr, "quiesce arcserve: cannot write D2D_PREPOST_OUTPUT %s: %v\n", job.Output, werr)
		}
	}
	if !hook.Report(req, line, err) {
		return *failCode
	}
	return ExitOK
}

// writeFirstLine makes line the first line of the file the agent shows.
func writeFirstLine(path, line string) error {
	return os.WriteFile(path, []byte(line+"\n"), 0o644)
}

// Instructions prints what to paste into the Arcserve UDP plan: binary is
// the command line (the quiesce binary and its options) the commands start with.
func Instructions(w io.Writer, binary string) {
	fmt.Fprintf(w, `Arcserve UDP: application-consistent backups of this guest with quiesce

Agentless plan > Advanced tab (user name and password: an account that runs
commands as root / as an administrator in this guest):
  Run a command before backup is started:   %[1]s arcserve pre-snapshot
      On exit code 0: Run Job        (any other code: Fail Job)
  Run a command after snapshot is taken:    %[1]s arcserve post-snapshot
  Run a command after backup is over:       %[1]s arcserve post-backup
      (tick "run even when the job fails": post-backup starts the server if
       post-snapshot never ran, and does nothing otherwise)

UDP Agent for Linux: put one-line scripts in /opt/Arcserve/d2dserver/usr/prepost/
calling the same commands, and choose them in the plan.

Exit codes: 0 success; 1 failure (change with --fail-code N to match the
plan's rule); 2 wrong arguments. The first line of $D2D_PREPOST_OUTPUT is a
one-line summary, shown in the activity log.
`, binary)
}
