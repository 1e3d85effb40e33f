// Package nutanix is the adapter for Nutanix Guest Tools (NGT) on AHV.
// For an application-consistent snapshot of a Linux guest NGT runs
// /usr/local/sbin/pre_freeze before the snapshot and
// /usr/local/sbin/post_thaw after it, as root, with no arguments; both
// must be owned by root with mode 0700. NGT documents no time limit and
// no failure rule for the scripts (docs/nutanix.md): quiesce assumes a
// short limit at which the script is killed (DefaultBudget), so a stop
// that cannot fit it is refused at once, and post_thaw is idempotent
// because nothing says it follows a failed pre_freeze.
package nutanix

import (
	"context"
	"path/filepath"
	"strings"
	"time"

	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/vendors/hook"
)

// Name of the caller in state, logs and configuration.
const Name = "nutanix"

// DefaultBudget: NGT documents no limit for pre_freeze and post_thaw
// (UNVERIFIED, docs/nutanix.md). quiesce plans for a conservative 60 s
// per script and assumes NGT kills the script at its limit; set
// [budgets] nutanix (and nutanix_thaw) when the cluster allows more.
const DefaultBudget = 60 * time.Second

// Defaults are the limits quiesce plans for with NGT.
var Defaults = hook.Limits{Budget: DefaultBudget, Limits: freeze.Limits{Thaw: DefaultBudget, Hard: true}}

// Exit codes: NGT reads zero as success, anything else as failure.
const (
	ExitOK      = 0
	ExitFailed  = 1
	ExitBadArgs = 2
)

// Hook names NGT runs, without the .bat of Windows.
const (
	PreFreeze = "pre_freeze"
	PostThaw  = "post_thaw"
)

// Usage lists the operations.
const Usage = "usage: quiesce nutanix freeze|thaw"

// Run handles one invocation and returns the exit code.
func Run(ctx context.Context, req hook.Request) int {
	return hook.RunWord(ctx, req, Name, Usage, Defaults, map[string]hook.Op{"freeze": hook.Freeze, "thaw": hook.Thaw},
		hook.Codes{OK: ExitOK, Failed: ExitFailed, BadArgs: ExitBadArgs})
}

// Invocation recognises the binary itself linked or copied as NGT's
// pre_freeze or post_thaw (the shims install nutanix writes call
// "quiesce nutanix" instead) and returns the adapter arguments.
func Invocation(argv0 string, args []string) ([]string, bool) {
	base := strings.ToLower(strings.TrimSuffix(filepath.Base(argv0), filepath.Ext(argv0)))
	switch base {
	case PreFreeze:
		return append([]string{"freeze"}, args...), true
	case PostThaw:
		return append([]string{"thaw"}, args...), true
	}
	return nil, false
}
