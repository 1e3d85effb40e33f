package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/vendors/arcserve"
	"github.com/quiesce/quiesce/vendors/qemu"
	"github.com/quiesce/quiesce/vendors/veeam"
	"github.com/quiesce/quiesce/vendors/vmware"
)

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
					Flags: []cli.Flag{binary, &cli.StringFlag{Name: "dir", Value: "/usr/local/share/quiesce/veeam", Usage: "where to write the scripts"}}},
				{Name: "arcserve", Usage: "print the Arcserve UDP plan settings", Action: e.installArcserve, Flags: []cli.Flag{binary}},
			},
		},
		{
			Name:  "uninstall",
			Usage: "remove a hook quiesce installed",
			Subcommands: []*cli.Command{
				{Name: "vmware", Action: e.uninstallVMware, Flags: []cli.Flag{&cli.StringFlag{Name: "dir", Usage: "backupScripts.d folder (default: as for install)"}, legacy}},
				{Name: "qemu", Action: e.uninstallQemu, Flags: []cli.Flag{&cli.StringFlag{Name: "hook", Value: qemu.DefaultHook},
					&cli.StringFlag{Name: "dropin-dir", Value: qemu.DefaultDropIn}}},
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
	bin, err := binaryPath(c)
	if err != nil {
		return &actionError{err}
	}
	if c.Bool("legacy") {
		return e.report(vmware.InstallLegacy(legacyDir(c), bin))
	}
	return e.report(vmware.Install(e.vmwareDir(c), bin))
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
	bin, err := binaryPath(c)
	if err != nil {
		return &actionError{err}
	}
	path := qemu.Target(c.String("hook"), c.String("dropin-dir"))
	if err := e.report(qemu.Install(path, bin)); err != nil {
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

func (e *env) installVeeam(c *cli.Context) error {
	bin, err := binaryPath(c)
	if err != nil {
		return &actionError{err}
	}
	dir := c.String("dir")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return &actionError{err}
	}
	for name, body := range veeam.Scripts(bin) {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o755); err != nil {
			return &actionError{fmt.Errorf("write %s: %w", name, err)}
		}
	}
	veeam.Instructions(e.io.out, bin, dir)
	return nil
}

func (e *env) installArcserve(c *cli.Context) error {
	bin, err := binaryPath(c)
	if err != nil {
		return &actionError{err}
	}
	arcserve.Instructions(e.io.out, bin)
	return nil
}
