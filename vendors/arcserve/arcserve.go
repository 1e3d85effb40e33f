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
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/vendors/hook"
)

// Name of the caller in state, logs and configuration.
const Name = "arcserve"

// DefaultBudget and DefaultThaw: not documented by Arcserve; set
// [budgets] arcserve and arcserve_thaw to what the plan allows.
const (
	DefaultBudget = 10 * time.Minute
	DefaultThaw   = 10 * time.Minute
)

// Defaults are the limits quiesce plans for with Arcserve UDP.
var Defaults = hook.Limits{Budget: DefaultBudget, Limits: freeze.Limits{Thaw: DefaultThaw}}

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
	word, failCode, err := parseArgs(req.Args)
	if err != nil {
		fmt.Fprintf(req.Stderr, "quiesce arcserve: %v; %s\n", err, Usage)
		return ExitBadArgs
	}
	var op hook.Op
	switch word {
	case "pre-snapshot":
		op = hook.Freeze
	case "post-snapshot", "post-backup": // post-backup also thaws: harmless after post-snapshot
		op = hook.Thaw
	}
	job := JobFrom(req.Getenv)
	var details []string
	if job.ID != "" || job.Name != "" {
		details = []string{"job_name", job.Name, "job_id", job.ID, "job_type", job.Type, "job_stage", job.Stage}
	}
	if job.Restore() {
		why := job.Type + " is a restore job, not a snapshot"
		hook.Skip(req, op, Name, why, details...)
		line := "quiesce " + Name + " " + word + ": nothing to do: " + why + "; no application stopped or started"
		job.show(req, line)
		fmt.Fprintln(req.Stdout, line)
		return ExitOK
	}
	res, err := hook.Do(ctx, req, op, Name, job.ID, Defaults, details...)
	line := "quiesce " + Name + " " + word + ": " + hook.Summary(op, res, err)
	job.show(req, line)
	if !hook.Report(req, line, err) {
		return failCode
	}
	return ExitOK
}

// parseArgs reads the operation and --fail-code N (also --fail-code=N),
// the flag before or after the operation; its error says what is wrong.
func parseArgs(args []string) (word string, failCode int, err error) {
	failCode = DefaultFailCode
	var words []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			words = append(words, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			words = append(words, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name != "fail-code" {
			return "", 0, fmt.Errorf("unknown flag %s (the only flag is --fail-code N)", a)
		}
		if !hasValue {
			if i+1 == len(args) {
				return "", 0, fmt.Errorf("--fail-code needs a value, an exit code from 1 to 255")
			}
			i++
			value = args[i]
		}
		if failCode, err = parseFailCode(value); err != nil {
			return "", 0, err
		}
	}
	switch {
	case len(words) == 0:
		return "", 0, fmt.Errorf("no operation given (pre-snapshot, post-snapshot or post-backup)")
	case !validOp(words[0]):
		return "", 0, fmt.Errorf("unknown operation %q (pre-snapshot, post-snapshot or post-backup)", words[0])
	case len(words) > 1:
		return "", 0, fmt.Errorf("unexpected argument %q after %s", words[1], words[0])
	}
	return words[0], failCode, nil
}

func validOp(word string) bool {
	return word == "pre-snapshot" || word == "post-snapshot" || word == "post-backup"
}

// parseFailCode reads --fail-code's value: an exit code that means
// failure, 1 to 255.
func parseFailCode(value string) (int, error) {
	n, err := strconv.Atoi(value)
	switch {
	case err != nil:
		return 0, fmt.Errorf("--fail-code %q is not a number: give an exit code from 1 to 255", value)
	case n == 0:
		return 0, fmt.Errorf("--fail-code 0 is out of range: 0 means success, give an exit code from 1 to 255")
	case n < 1 || n > 255:
		return 0, fmt.Errorf("--fail-code %d is out of range: give an exit code from 1 to 255", n)
	}
	return n, nil
}

// Restore reports whether the job is a restore (restore.bmr,
// restore.file): no snapshot is taken, so nothing may be stopped.
func (j Job) Restore() bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(j.Type)), "restore.")
}

// show makes line the first line of $D2D_PREPOST_OUTPUT, which the
// activity log shows.
func (j Job) show(req hook.Request, line string) {
	if j.Output == "" {
		return
	}
	if err := writeFirstLine(j.Output, line); err != nil {
		fmt.Fprintf(req.Stderr, "quiesce arcserve: cannot write D2D_PREPOST_OUTPUT %s: %v\n", j.Output, err)
	}
}

// maxOutput bounds what writeFirstLine keeps of what the file held.
const maxOutput = 64 << 10

// writeFirstLine makes line the first line of the file the agent shows,
// keeping what the file held after it. The file is the agent's, often in
// a directory others can write (/tmp): it is opened without following a
// link, and written only when it is a regular file with no other name
// (no hard link) owned by quiesce's own user; a missing one is created
// new, never through a name planted meanwhile.
func writeFirstLine(path, line string) error {
	f, err := openOutput(path)
	if err != nil {
		return err
	}
	defer f.Close()
	old, err := io.ReadAll(io.LimitReader(f, maxOutput))
	if err != nil {
		return err
	}
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err = f.WriteAt(append([]byte(line+"\n"), old...), 0)
	return err
}

// Instructions prints what to paste into the Arcserve UDP plan: binary is
// the command line (the quiesce binary and its options) the commands start with.
func Instructions(w io.Writer, binary string) {
	fmt.Fprintf(w, `Arcserve UDP: application-consistent backups of this guest with quiesce

Agentless plan > Advanced tab (user name and password: an account that runs
commands as root / as an administrator in this guest):
  Run a command before backup is started:   %[1]s arcserve pre-snapshot
      On exit code 0: Run Job; any other code: Fail Job.
  Run a command after snapshot is taken:    %[1]s arcserve post-snapshot
  Run a command after backup is over:       %[1]s arcserve post-backup
      (tick "run even when the job fails": post-backup starts the server if
       post-snapshot never ran, and does nothing otherwise)

UDP Agent for Linux: the scripts live on the Linux Backup Server, not on this
guest. There, as root, create one-line scripts in its prepost folder
(/opt/Arcserve/d2dserver/usr/prepost/; check the path on your server), e.g.
  #!/bin/sh
  exec %[1]s arcserve pre-snapshot
and choose them in the Backup Wizard's Pre/Post Script Settings for the
stages that run on the target machine: before capturing the snapshot
(pre-snapshot), after capturing it (post-snapshot), after the job (post-backup).

Restore jobs (D2D_JOBTYPE restore.bmr, restore.file) take no snapshot:
quiesce does nothing for them and exits 0.
Exit codes: 0 success; 1 failure (change with --fail-code N to match the
plan's rule); 2 wrong arguments. The first line of $D2D_PREPOST_OUTPUT is a
one-line summary, shown in the activity log. Arcserve documents no timeout:
set [budgets] arcserve and arcserve_thaw to what the plan allows ('quiesce
check' shows whether freeze and thaw fit).
`, binary)
}
