package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/vendors/arcserve"
	"github.com/quiesce/quiesce/vendors/hook"
	"github.com/quiesce/quiesce/vendors/qemu"
	"github.com/quiesce/quiesce/vendors/veeam"
	"github.com/quiesce/quiesce/vendors/vmware"
)

// veeamDir is where install veeam writes the scripts by default.
const veeamDir = "/usr/local/share/quiesce/veeam"

func installCommands(e *env) []*cli.Command {
	binary := &cli.StringFlag{Name: "binary", Usage: "quiesce binary the hook calls (default: this one)"}
	legacy := &cli.BoolFlag{Name: "legacy", Usage: "Windows: the legacy pre-freeze-script.bat/post-thaw-script.bat in the Windows folder (or --dir) instead of the backupScripts.d hook"}
	return []*cli.Command{
		{
			Name:  "install",
			Usage: "put a caller's hook in place (vmware, qemu) or print what to paste into its console (veeam, arcserve)",
			Subcommands: []*cli.Command{
				{Name: "vmware", Usage: "install the VMware Tools hook", Action: e.installVMware,
					Flags: []cli.Flag{binary, &cli.StringFlag{Name: "dir", Usage: "backupScripts.d folder (default: on Windows from the registry's VMware Tools InstallPath)"}, legacy}},
				{Name: "qemu", Usage: "install the qemu-guest-agent fsfreeze hook", Action: e.installQemu,
					Flags: []cli.Flag{binary, &cli.StringFlag{Name: "hook", Value: qemu.DefaultHook, Usage: "qemu-ga's hook path"},
						&cli.StringFlag{Name: "dropin-dir", Value: qemu.DefaultDropIn, Usage: "the stock hook's fsfreeze-hook.d"}}},
				{Name: "veeam", Usage: "write the Veeam scripts and print the job settings", Action: e.installVeeam,
					Flags: []cli.Flag{binary, &cli.StringFlag{Name: "dir", Value: veeamDir, Usage: "where to write the scripts"}}},
				{Name: "arcserve", Usage: "print the Arcserve UDP plan settings", Action: e.installArcserve, Flags: []cli.Flag{binary}},
			},
		},
		{
			Name:  "uninstall",
			Usage: "remove a hook quiesce installed",
			Subcommands: []*cli.Command{
				{Name: "vmware", Usage: "remove the VMware Tools hook", Action: e.uninstallVMware,
					Flags: []cli.Flag{&cli.StringFlag{Name: "dir", Usage: "backupScripts.d folder (default: as for install)"}, legacy}},
				{Name: "qemu", Usage: "remove the qemu-guest-agent fsfreeze hook", Action: e.uninstallQemu,
					Flags: []cli.Flag{&cli.StringFlag{Name: "hook", Value: qemu.DefaultHook, Usage: "qemu-ga's hook path"},
						&cli.StringFlag{Name: "dropin-dir", Value: qemu.DefaultDropIn, Usage: "the stock hook's fsfreeze-hook.d"}}},
				{Name: "veeam", Usage: "remove the Veeam scripts install veeam wrote", Action: e.uninstallVeeam,
					Flags: []cli.Flag{&cli.StringFlag{Name: "dir", Value: veeamDir, Usage: "where install veeam wrote the scripts"}}},
			},
		},
	}
}

// binaryPath is the quiesce binary hooks should call.
func binaryPath(c *cli.Context) (string, error) {
	if b := c.String("binary"); b != "" {
		return filepath.Abs(b)
	}
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(exe)
}

// report prints what an install step did, or makes its error an action error.
func (e *env) report(msg string, err error) error {
	if err != nil {
		return &actionError{err}
	}
	e.say("%s", msg)
	return nil
}

func (e *env) installVMware(c *cli.Context) error {
	bin, opts, err := e.hookCommand(c)
	if err != nil {
		return err
	}
	if c.Bool("legacy") {
		return e.report(vmware.InstallLegacy(legacyDir(c), bin, opts))
	}
	dir := e.vmwareDir(c)
	return e.installChecked(vmware.Name, vmware.HookPath(dir), func() (string, error) { return vmware.Install(dir, bin, opts) },
		opts.CommandLine(bin, isWindows())+" vmware freeze|freezeFail|thaw")
}

func (e *env) uninstallVMware(c *cli.Context) error {
	if c.Bool("legacy") {
		return e.report(vmware.UninstallLegacy(legacyDir(c)))
	}
	return e.report(vmware.Uninstall(e.vmwareDir(c)))
}

// legacyDir is --dir, else the Windows folder.
func legacyDir(c *cli.Context) string {
	if d := c.String("dir"); d != "" {
		return d
	}
	return vmware.LegacyDir()
}

// vmwareDir is --dir, else VMware Tools' script folder, saying where that
// came from (on Windows the registry, the default path only as a fallback).
func (e *env) vmwareDir(c *cli.Context) string {
	if d := c.String("dir"); d != "" {
		return d
	}
	dir, source := vmware.ScriptDir()
	e.say("VMware Tools script folder %s (from %s)", dir, source)
	return dir
}

func (e *env) installQemu(c *cli.Context) error {
	bin, opts, err := e.hookCommand(c)
	if err != nil {
		return err
	}
	path := qemu.Target(c.String("hook"), c.String("dropin-dir"))
	if err := e.installChecked(qemu.Name, path, func() (string, error) { return qemu.Install(path, bin, opts) },
		opts.CommandLine(bin, isWindows())+" qemu freeze|thaw"); err != nil {
		return err
	}
	if path != c.String("hook") {
		e.say("note: %s is another hook; quiesce runs from its fsfreeze-hook.d, whose failures it does not pass on to qemu-ga", c.String("hook"))
	}
	return nil
}

func (e *env) uninstallQemu(c *cli.Context) error {
	return e.report(qemu.Uninstall(c.String("hook"), c.String("dropin-dir")))
}

// hookCommand is the binary and the options an installed hook runs.
func (e *env) hookCommand(c *cli.Context) (string, hook.Options, error) {
	bin, err := binaryPath(c)
	if err != nil {
		return "", hook.Options{}, &actionError{err}
	}
	opts, err := e.hookOptions(c)
	return bin, opts, err
}

func (e *env) installVeeam(c *cli.Context) error {
	bin, opts, err := e.hookCommand(c)
	if err != nil {
		return err
	}
	dir := c.String("dir")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return &actionError{err}
	}
	scripts := veeam.Scripts(bin, opts)
	var checked []string
	for _, name := range sortedNames(scripts) {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, scripts[name], 0o755); err != nil {
			return &actionError{fmt.Errorf("write %s: %w", name, err)}
		}
		line, err := dryRunHook(path, dryRunFlag)
		if err != nil {
			for n := range scripts {
				os.Remove(filepath.Join(dir, n))
			}
			return &exitError{code: ExitFailure, msg: fmt.Sprintf("%s: install veeam: %s failed its check, so it would fail every backup (removed the scripts again):\n  %s", e.prog, path, err)}
		}
		checked = append(checked, name+": "+line)
	}
	veeam.Instructions(e.io.out, opts.CommandLine(bin, isWindows()), dir)
	for _, l := range checked {
		e.say("checked: %s", l)
	}
	return nil
}

func (e *env) uninstallVeeam(c *cli.Context) error {
	dir := c.String("dir")
	for _, name := range sortedNames(veeam.Scripts("")) {
		if err := e.report(hook.RemoveFile(filepath.Join(dir, name))); err != nil {
			return err
		}
	}
	return nil
}

func (e *env) installArcserve(c *cli.Context) error {
	bin, opts, err := e.hookCommand(c)
	if err != nil {
		return err
	}
	checked, err := e.consoleChecked(arcserve.Name, append(append([]string{bin}, opts.Args()...), arcserve.Name, "pre-snapshot"))
	if err != nil {
		return err
	}
	arcserve.Instructions(e.io.out, opts.CommandLine(bin, isWindows()))
	e.say("checked: %s", checked)
	return nil
}

func sortedNames(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
