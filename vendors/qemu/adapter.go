package qemu

import (
	"path/filepath"
	"slices"

	"github.com/quiesce/quiesce/vendors/hook"
)

// Adapter is qemu-guest-agent as the command line offers it.
func Adapter() hook.Adapter {
	flags := []hook.Flag{
		{Name: "hook", Locates: true, Usage: "the hook qemu-ga runs (default: found from qemu-guest-agent.service, " + SysconfigFile + " and " + ConfFile + ")"},
		{Name: "dropin-dir", Locates: true, Usage: "the stock hook's fsfreeze-hook.d (default: next to the hook)"},
		{Name: "root", Default: "/", Locates: true, Shared: true, Usage: "the guest's root directory (an image or a test tree)"},
	}
	return hook.Adapter{
		Name:      Name,
		LinuxOnly: true, // its Windows agent quiesces through VSS and runs no hook
		Usage:     "qemu-guest-agent fsfreeze hook: freeze|thaw",
		Help: hook.Help{
			Args: "freeze|thaw",
			Words: []hook.Word{
				{Name: "freeze", What: "guest-fsfreeze-freeze: stop the applications before any filesystem is frozen; non-zero fails the freeze"},
				{Name: "thaw", What: "after guest-fsfreeze-thaw: start the applications and prove they serve"},
			},
			Exits: "0 success, 1 failure, 2 wrong arguments",
		},
		Defaults: Defaults,
		Hints:    hook.Hints{Budget: "[budgets] qemu", Thaw: "[budgets] qemu_thaw (Proxmox VE: 3m, 10s on older releases)"},
		Run:      Run,
		Invoked: func(argv0 string, args []string) ([]string, bool) {
			return args, Invocation(argv0)
		},
		Install: &hook.Installer{
			Usage:          "install the qemu-guest-agent fsfreeze hook where the installed qemu-ga looks for it",
			Flags:          flags,
			Install:        install,
			UninstallUsage: "remove the qemu-guest-agent fsfreeze hook from where qemu-ga runs it",
			UninstallFlags: flags,
			Uninstall:      uninstall,
			Hooks:          hooks,
			Check:          check,
		},
	}
}

// layout is where qemu-ga runs its hook: --hook, or what the installed
// qemu-ga's unit and configuration say.
func layout(s hook.Site) Layout {
	if h := s.String("hook"); h != "" {
		return Layout{Hook: h, Source: "--hook", Enabled: true}
	}
	lc := Locator{Root: s.String("root")}
	if lc.Root == "/" {
		lc = Live()
	}
	return lc.Locate()
}

func install(s hook.Site) error {
	bin, opts, err := s.Command()
	if err != nil {
		return err
	}
	setup, err := Plan(s.String("root"), layout(s), s.String("dropin-dir"))
	if err != nil {
		return err
	}
	if err := s.Write(filepath.Join(setup.Root, setup.Path), func() (string, error) { return setup.Write(bin, opts) },
		opts.CommandLine(bin, s.Windows())+" qemu freeze|thaw"); err != nil {
		return err
	}
	lines, err := setup.Notes()
	for _, l := range lines {
		s.Say("%s", l)
	}
	return err
}

func uninstall(s hook.Site) error {
	lines, err := Remove(s.String("root"), layout(s), s.String("dropin-dir"))
	for _, l := range lines {
		s.Say("%s", l)
	}
	return err
}

// hooks are the places a hook quiesce installed may be: the default hook
// and drop-in folder (or the ones named), and where the installed qemu-ga
// runs its hook.
func hooks(s hook.Site) []string {
	h, d := s.String("hook"), s.String("dropin-dir")
	if h == "" {
		h = DefaultHook
	}
	if d == "" {
		d = DefaultDropIn
	}
	paths := []string{h, filepath.Join(d, DropInName)}
	l := layout(s)
	for _, p := range []string{l.Hook, filepath.Join(l.DropIn(), DropInName)} {
		if p = filepath.Join(s.String("root"), p); !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	return paths
}

// check says where qemu-ga runs its hook and whether it runs quiesce's;
// false when quiesce is installed where qemu-ga will not run it.
func check(s hook.Site) bool {
	root := s.String("root")
	l := layout(s)
	var installed string
	for _, p := range []string{l.Hook, filepath.Join(l.DropIn(), DropInName)} {
		if hook.Ours(filepath.Join(root, p)) {
			installed = p
		}
	}
	if l.Unit == "" && installed == "" {
		s.Say("          hook      no qemu-guest-agent unit found")
		return true
	}
	s.Say("          hook      qemu-ga runs %s (%s)", l.Hook, l.Source)
	switch {
	case installed == "":
		s.Say("                    quiesce's hook is not installed ('quiesce install qemu' puts it there)")
	case l.Known && !l.Enabled:
		s.Say("                    quiesce is installed at %s, but qemu-ga will NOT run it: %s", installed, l.Reason)
		return false
	default:
		s.Say("                    quiesce is installed at %s", installed)
	}
	return true
}
