package main

import (
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/vendors/hook"
	"github.com/quiesce/quiesce/vendors/qemu"
)

// qemuFlags locate qemu-ga's hook: found from qemu-ga's unit, its
// environment file and qemu-ga.conf unless named.
func qemuFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "hook", Usage: "the hook qemu-ga runs (default: found from qemu-guest-agent.service, " + qemu.SysconfigFile + " and " + qemu.ConfFile + ")"},
		&cli.StringFlag{Name: "dropin-dir", Usage: "the stock hook's fsfreeze-hook.d (default: next to the hook)"},
		&cli.StringFlag{Name: "root", Value: "/", Usage: "the guest's root directory (an image or a test tree)"},
	}
}

// qemuLayout is where qemu-ga runs its hook: --hook, or what the installed
// qemu-ga's unit and configuration say.
func qemuLayout(c *cli.Context) qemu.Layout {
	if h := c.String("hook"); h != "" {
		return qemu.Layout{Hook: h, Source: "--hook", Enabled: true}
	}
	lc := qemu.Locator{Root: c.String("root")}
	if lc.Root == "/" {
		lc = qemu.Live()
	}
	return lc.Locate()
}

func (e *env) installQemu(c *cli.Context) error {
	bin, opts, err := e.hookCommand(c)
	if err != nil {
		return err
	}
	s, err := qemu.Plan(c.String("root"), qemuLayout(c), c.String("dropin-dir"))
	if err != nil {
		return &actionError{err}
	}
	if err := e.installChecked(qemu.Name, filepath.Join(s.Root, s.Path), func() (string, error) { return s.Write(bin, opts) },
		opts.CommandLine(bin, isWindows())+" qemu freeze|thaw"); err != nil {
		return err
	}
	lines, err := s.Notes()
	for _, l := range lines {
		e.say("%s", l)
	}
	if err != nil {
		return &actionError{err}
	}
	return nil
}

func (e *env) uninstallQemu(c *cli.Context) error {
	lines, err := qemu.Remove(c.String("root"), qemuLayout(c), c.String("dropin-dir"))
	for _, l := range lines {
		e.say("%s", l)
	}
	if err != nil {
		return &actionError{err}
	}
	return nil
}

// sayQemuHook adds to check where qemu-ga runs its hook and whether it
// runs quiesce's; ok is false when quiesce is installed where qemu-ga
// will not run it.
func (e *env) sayQemuHook(c *cli.Context) (ok bool) {
	root := c.String("root")
	l := qemuLayout(c)
	var installed string
	for _, p := range []string{l.Hook, filepath.Join(l.DropIn(), qemu.DropInName)} {
		if hook.Ours(filepath.Join(root, p)) {
			installed = p
		}
	}
	if l.Unit == "" && installed == "" {
		e.say("          hook      no qemu-guest-agent unit found")
		return true
	}
	e.say("          hook      qemu-ga runs %s (%s)", l.Hook, l.Source)
	switch {
	case installed == "":
		e.say("                    quiesce's hook is not installed ('quiesce install qemu' puts it there)")
	case l.Known && !l.Enabled:
		e.say("                    quiesce is installed at %s, but qemu-ga will NOT run it: %s", installed, l.Reason)
		return false
	default:
		e.say("                    quiesce is installed at %s", installed)
	}
	return true
}
