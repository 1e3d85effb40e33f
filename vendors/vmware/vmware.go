// Package vmware is the adapter for VMware Tools (vmtoolsd's vmbackup
// plugin), on Linux and Windows. VMware Tools runs the hook with freeze,
// freezeFail or thaw (and a second argument when scriptArg is set); a
// non-zero freeze fails the quiesced snapshot; freezeFail is handled like
// thaw; the output is not captured, so quiesce's own log is what remains.
package vmware

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/quiesce/quiesce/vendors/hook"
)

// Name of the caller in state, logs and configuration.
const Name = "vmware"

// DefaultBudget: one timer for the whole quiesce operation, 15 minutes.
const DefaultBudget = 15 * time.Minute

// Exit codes: VMware Tools only distinguishes zero from non-zero.
const (
	ExitOK      = 0
	ExitFailed  = 1
	ExitBadArgs = 2
)

// Usage is shown for arguments VMware Tools never sends.
const Usage = "usage: quiesce vmware freeze|freezeFail|thaw [ARG]"

// parseOp maps VMware's operation words, in any case: vmtoolsd sends
// freezeFail, but tools.conf and scripts written from it say freezefail.
func parseOp(word string) (hook.Op, bool) {
	switch strings.ToLower(word) {
	case "freeze":
		return hook.Freeze, true
	case "freezefail", "thaw":
		return hook.Thaw, true
	}
	return 0, false
}

// Run handles one invocation and returns the exit code.
func Run(ctx context.Context, req hook.Request) int {
	if len(req.Args) < 1 || len(req.Args) > 2 {
		fmt.Fprintln(req.Stderr, Usage)
		return ExitBadArgs
	}
	op, ok := parseOp(req.Args[0])
	if !ok {
		fmt.Fprintf(req.Stderr, "quiesce vmware: unknown operation %q\n%s\n", req.Args[0], Usage)
		return ExitBadArgs
	}
	job := ""
	if len(req.Args) == 2 {
		job = req.Args[1] // [vmbackup] scriptArg
	}
	res, err := hook.Do(ctx, req, op, Name, job, DefaultBudget)
	if !hook.Report(req, "quiesce vmware "+req.Args[0]+": "+hook.Summary(op, res, err), err) {
		return ExitFailed
	}
	return ExitOK
}

// Invocation recognises the names under which VMware Tools runs quiesce
// directly (the binary copied as a legacy script or into backupScripts.d)
// and returns the adapter arguments; ok is false for any other name.
func Invocation(argv0 string, args []string) (adapterArgs []string, ok bool) {
	base := strings.ToLower(strings.TrimSuffix(filepath.Base(argv0), filepath.Ext(argv0)))
	dir := strings.ToLower(filepath.Base(filepath.Dir(argv0)))
	switch {
	case base == "pre-freeze-script" && len(args) == 0:
		return []string{"freeze"}, true
	case base == "post-thaw-script" && len(args) == 0:
		return []string{"thaw"}, true
	case base == "pre-freeze-script", base == "post-thaw-script", dir == "backupscripts.d":
		return args, true
	}
	return nil, false
}
