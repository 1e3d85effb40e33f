// Package azure is the adapter for Azure Backup's Linux pre-script and
// post-script framework. The Azure VM backup extension reads
// /etc/azure/VMSnapshotScriptPluginConfig.json (mode 600, owner root),
// runs the pre-script as root with "sh SCRIPT preScriptParams...", takes
// the snapshot (with fsfreeze unless fsFreezeEnabled is false), then runs
// the post-script the same way, whether the pre-script succeeded or not.
// Each script has timeoutInSeconds (30 in Microsoft's sample, at most
// 1800); the extension stops waiting then but does not kill the script.
// A failed or timed-out pre-script: with continueBackupOnFailure true the
// snapshot is taken anyway (file-system consistent, not application
// consistent) and the job ends with a warning; with false no snapshot is
// taken and the backup fails. So a freeze must answer within the limit,
// and a freeze that cannot must fail at once, not be abandoned half-way.
package azure

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/vendors/hook"
)

// Name of the caller in state, logs and configuration.
const Name = "azure"

// ConfigFile is where the extension reads the script plugin's settings.
const ConfigFile = "/etc/azure/VMSnapshotScriptPluginConfig.json"

// DefaultTimeout is timeoutInSeconds in Microsoft's sample file;
// MaxTimeout is the plugin host's cap (VMSnapshotPluginHost.conf).
const (
	DefaultTimeout = 30 * time.Second
	MaxTimeout     = 1800 * time.Second
)

// Defaults are Azure's limits when the plugin configuration gives none:
// each script, pre and post, has timeoutInSeconds. Hard: the extension
// gives up on a script at its limit and takes the snapshot (or none)
// while the script runs on, which for a freeze is as bad as a kill: a
// stop that cannot fit is refused before anything is touched.
var Defaults = hook.Limits{Budget: DefaultTimeout, Limits: freeze.Limits{Thaw: DefaultTimeout, Hard: true}}

// Exit codes: the extension takes 0 as success and anything else as a
// failed script.
const (
	ExitOK      = 0
	ExitFailed  = 1
	ExitBadArgs = 2
)

// Usage lists the operations.
const Usage = "usage: quiesce azure [--plugin-config FILE] pre-script|post-script [PARAMS...]"

// LimitsFrom are the limits the plugin configuration at path sets: its
// timeoutInSeconds (capped as the extension caps it) for each script;
// Defaults when the file cannot be read or sets none.
func LimitsFrom(path string) hook.Limits {
	o, err := readObject(path)
	if err != nil || o == nil {
		return Defaults
	}
	t, ok := o.Timeout()
	if !ok {
		return Defaults
	}
	return hook.Limits{Budget: t, Limits: freeze.Limits{Thaw: t, Hard: true}}
}

// Run handles one invocation and returns the exit code.
func Run(ctx context.Context, req hook.Request) int {
	fs := flag.NewFlagSet(Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg := fs.String("plugin-config", ConfigFile, "the plugin configuration naming the scripts")
	if err := fs.Parse(req.Args); err != nil || fs.NArg() < 1 {
		fmt.Fprintln(req.Stderr, Usage)
		return ExitBadArgs
	}
	word := fs.Arg(0)
	var op hook.Op
	switch word {
	case "pre-script":
		op = hook.Freeze
	case "post-script":
		op = hook.Thaw
	default:
		fmt.Fprintf(req.Stderr, "quiesce azure: unknown operation %q\n%s\n", word, Usage)
		return ExitBadArgs
	}
	var details []string
	if params := nonEmpty(fs.Args()[1:]); len(params) > 0 {
		details = []string{"params", strings.Join(params, " "), "plugin_config", *cfg}
	}
	own := LimitsFrom(*cfg)
	res, err := hook.Do(ctx, hook.Within(req, own), op, Name, "", own, details...)
	if !hook.Report(req, "quiesce "+Name+" "+word+": "+hook.Summary(op, res, err), err) {
		return ExitFailed
	}
	return ExitOK
}

// nonEmpty drops the empty parameters Microsoft's sample file passes
// (preScriptParams ["", ""]).
func nonEmpty(args []string) []string {
	var out []string
	for _, a := range args {
		if a != "" {
			out = append(out, a)
		}
	}
	return out
}
