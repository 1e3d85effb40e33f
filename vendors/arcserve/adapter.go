package arcserve

import (
	"strconv"
	"strings"

	"github.com/quiesce/quiesce/vendors/hook"
)

// Adapter is Arcserve UDP as the command line offers it.
func Adapter() hook.Adapter {
	return hook.Adapter{
		Name:  Name,
		Usage: "Arcserve UDP command: [--fail-code N] pre-snapshot|post-snapshot|post-backup",
		Help: hook.Help{
			Args: "[--fail-code N] pre-snapshot|post-snapshot|post-backup",
			Words: []hook.Word{
				{Name: "pre-snapshot", What: `"Run a command before backup is started": stop the applications`},
				{Name: "post-snapshot", What: `"Run a command after snapshot is taken": start the applications and prove they serve`},
				{Name: "post-backup", What: `"Run a command after backup is over": start them if post-snapshot never ran, else nothing`},
			},
			Flags: []hook.Flag{{Name: "fail-code", Default: strconv.Itoa(DefaultFailCode),
				Usage: "exit code `N` for a failure (1-255), to match the plan's \"On exit code\" rule"}},
			Exits: "0 success, the fail code (default 1) on failure, 2 wrong arguments",
		},
		Defaults: Defaults,
		Hints:    hook.Hints{Budget: "[budgets] arcserve (what the plan allows)", Thaw: "[budgets] arcserve_thaw"},
		Run:      Run,
		Install: &hook.Installer{Usage: "print the Arcserve UDP plan settings", Install: install,
			Elsewhere: "install arcserve wrote no file here, it printed the plan's commands: take them out of the " +
				"Arcserve UDP plan (Advanced tab), or the quiesce scripts out of the Linux Backup Server's prepost folder"},
	}
}

// install checks the command line the plan will run, with a dry run of
// exactly that command, and prints what to paste into the plan.
func install(s hook.Site) error {
	bin, opts, err := s.Command()
	if err != nil {
		return err
	}
	argv := append(append([]string{bin}, opts.Args()...), Name, "pre-snapshot")
	checked, err := s.DryRun(argv...)
	if err != nil {
		return s.Fail("%s fails its check, so it would fail every backup:\n  %s", strings.Join(argv, " "), err)
	}
	Instructions(s.Out(), opts.CommandLine(bin, s.Windows()))
	s.Say("checked: %s", checked)
	return nil
}
