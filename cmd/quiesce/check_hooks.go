package main

import (
	"os"
	"path/filepath"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/vendors/hook"
	"github.com/quiesce/quiesce/vendors/qemu"
	"github.com/quiesce/quiesce/vendors/veeam"
	"github.com/quiesce/quiesce/vendors/vmware"
)

// checkLegend explains check's columns (docs/configuration.md, "quiesce check").
const checkLegend = `freeze worst: the graceful shutdown wait plus nsd -kill, SIGTERM and SIGKILL waits, against the caller's
limit per freeze ([budgets] NAME). thaw worst: how long a thaw may wait until the application serves, against
the caller's limit per thaw ([budgets] NAME_thaw); a slower start is finished by the watchdog. VMware's one
timer covers freeze, snapshot and thaw. margin: kept free for the caller and for starting the application
again if the freeze fails (a tenth of the budget, at least 30s).`

// hookLocationFlags tell check where the hooks are (the install defaults).
func hookLocationFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "vmware-dir", Usage: "VMware Tools' backupScripts.d to look for a hook in (default: as install finds it)"},
		&cli.StringFlag{Name: "qemu-hook", Value: qemu.DefaultHook, Usage: "qemu-ga's hook path to look at"},
		&cli.StringFlag{Name: "qemu-dropin-dir", Value: qemu.DefaultDropIn, Usage: "the stock qemu hook's fsfreeze-hook.d to look in"},
		&cli.StringFlag{Name: "veeam-dir", Value: veeamDir, Usage: "where install veeam wrote the Veeam scripts"},
	}
}

// installedHooks lists the places a hook quiesce installed may be.
func installedHooks(c *cli.Context) []string {
	l := qemuLayout(c) // where the installed qemu-ga runs its hook
	vmwareDir := c.String("vmware-dir")
	if vmwareDir == "" {
		vmwareDir, _ = vmware.ScriptDir()
	}
	paths := []string{vmware.HookPath(vmwareDir), c.String("qemu-hook"),
		filepath.Join(c.String("qemu-dropin-dir"), qemu.DropInName)}
	for _, p := range []string{l.Hook, filepath.Join(l.DropIn(), qemu.DropInName)} {
		if p = filepath.Join(c.String("root"), p); !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	for _, name := range sortedNames(veeam.Scripts("")) {
		paths = append(paths, filepath.Join(c.String("veeam-dir"), name))
	}
	return paths
}

// checkHooks reports, for every hook quiesce installed, the configuration
// it passes and whether that configuration loads; false when one does not.
func (e *env) checkHooks(c *cli.Context) bool {
	ok := true
	for _, path := range installedHooks(c) {
		body, err := os.ReadFile(path)
		if err != nil {
			continue // not installed there
		}
		opts, ours := hook.ParseOptions(body)
		if !ours {
			continue
		}
		cfg, how := opts.Config, "its --config"
		if cfg == "" {
			how = "no --config, so the default"
			if cfg, err = config.Find("", config.DefaultPaths); err != nil {
				e.say("WARNING: hook %s passes no --config and no default configuration exists (%v): every backup would fail; reinstall it with 'quiesce --config FILE install ...'", path, err)
				ok = false
				continue
			}
		}
		if _, err := config.Load(cfg); err != nil {
			e.say("WARNING: hook %s uses %s %s, which does not load: %v; every backup would fail", path, how, cfg, err)
			ok = false
			continue
		}
		e.say("hook %s: uses %s %s, which loads", path, how, cfg)
	}
	return ok
}
