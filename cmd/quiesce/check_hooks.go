package main

import (
	"os"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/vendors/hook"
)

// checkLegend explains check's columns (docs/configuration.md, "quiesce check").
func checkLegend() string {
	return `freeze worst: the graceful shutdown wait plus ` + killWaits() + `, against the caller's
limit per freeze ([budgets] NAME). thaw worst: how long a thaw may wait until the application serves, against
the caller's limit per thaw ([budgets] NAME_thaw); a slower start is finished by the watchdog. VMware's one
timer covers freeze, snapshot and thaw. margin: kept free for the caller and for starting the application
again if the freeze fails (a tenth of the budget, at least 30s).`
}

// installedHooks lists the places a hook quiesce installed may be, for
// every caller in the registry.
func (e *env) installedHooks(c *cli.Context) []string {
	var paths []string
	for _, a := range e.adapters {
		if a.Install == nil || a.Install.Hooks == nil {
			continue
		}
		for _, p := range a.Install.Hooks(e.checkSite(c, a)) {
			if !slices.Contains(paths, p) {
				paths = append(paths, p)
			}
		}
	}
	return paths
}

// checkHooks reports, for every hook quiesce installed, the configuration
// it passes and whether that configuration loads; false when one does not.
func (e *env) checkHooks(c *cli.Context) bool {
	ok := true
	for _, path := range e.installedHooks(c) {
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
