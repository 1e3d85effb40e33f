package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/vendors/arcserve"
	"github.com/quiesce/quiesce/vendors/qemu"
	"github.com/quiesce/quiesce/vendors/veeam"
	"github.com/quiesce/quiesce/vendors/vmware"
)

// word is one positional argument a caller command takes, and what it does.
type word struct{ name, what string }

// callerDoc is the help of a caller command: its caller parses its own
// arguments (SkipFlagParsing), so they are described here for --help.
type callerDoc struct {
	args  string // ArgsUsage
	words []word
	flags []cli.Flag // shown in the help; the adapter parses them itself
	exits string
}

var callerDocs = map[string]callerDoc{
	vmware.Name: {
		args: "freeze|freezeFail|thaw [SCRIPT_ARG]",
		words: []word{
			{"freeze", "before the quiesced snapshot: stop the applications; non-zero fails the snapshot"},
			{"freezeFail", "the snapshot failed after freeze: start the applications again (as thaw)"},
			{"thaw", "after the snapshot: start the applications and prove they serve"},
			{"SCRIPT_ARG", "VMware Tools' [vmbackup] scriptArg, if set: logged as the job"},
		},
		exits: "0 success, 1 failure, 2 wrong arguments",
	},
	veeam.Name: {
		args: "pre-freeze|post-thaw",
		words: []word{
			{"pre-freeze", "the job's pre-freeze script: stop the applications before the snapshot"},
			{"post-thaw", "the job's post-thaw script: start the applications and prove they serve"},
		},
		exits: "0 success, 1 failure or wrong arguments; nothing is ever written to stderr (Veeam fails a job on it)",
	},
	arcserve.Name: {
		args: "[--fail-code N] pre-snapshot|post-snapshot|post-backup",
		words: []word{
			{"pre-snapshot", `"Run a command before backup is started": stop the applications`},
			{"post-snapshot", `"Run a command after snapshot is taken": start the applications and prove they serve`},
			{"post-backup", `"Run a command after backup is over": start them if post-snapshot never ran, else nothing`},
		},
		flags: []cli.Flag{&cli.IntFlag{Name: "fail-code", Value: arcserve.DefaultFailCode,
			Usage: "exit code for a failure (1-255), to match the plan's \"On exit code\" rule"}},
		exits: "0 success, the fail code (default 1) on failure, 2 wrong arguments",
	},
	qemu.Name: {
		args: "freeze|thaw",
		words: []word{
			{"freeze", "guest-fsfreeze-freeze: stop the applications before any filesystem is frozen; non-zero fails the freeze"},
			{"thaw", "after guest-fsfreeze-thaw: start the applications and prove they serve"},
		},
		exits: "0 success, 1 failure, 2 wrong arguments",
	},
}

// description is the help body of a caller command.
func (d callerDoc) description(name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Run by the caller (see 'quiesce install %s'), not by hand.\n\nArguments:\n", name)
	for _, w := range d.words {
		fmt.Fprintf(&b, "   %-13s %s\n", w.name, w.what)
	}
	fmt.Fprintf(&b, "   %-13s check what the hook needs (configuration, state, applications, permission); changes nothing\n", dryRunFlag)
	fmt.Fprintf(&b, "\nExit codes: %s.", d.exits)
	return b.String()
}

// describeCaller fills in a caller command's help.
func describeCaller(cmd *cli.Command) {
	d, ok := callerDocs[cmd.Name]
	if !ok {
		return
	}
	cmd.ArgsUsage = d.args
	cmd.Description = d.description(cmd.Name)
	cmd.Flags = d.flags
}

// wantsHelp reports whether a command that parses its own arguments was
// asked for its help.
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "--help" || a == "-h" {
			return true
		}
	}
	return false
}

// showHelp prints a command's help on stdout.
func showHelp(c *cli.Context) error {
	cli.HelpPrinter(c.App.Writer, cli.CommandHelpTemplate, c.Command)
	return nil
}
