package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/generic"
	"github.com/quiesce/quiesce/core/state"
)

// dryRunFlag, given to a caller command (or to an installed hook, which
// passes it on), checks what the hook needs and changes nothing: no caller
// ever sends it.
const dryRunFlag = "--dry-run"

func isDryRun(args []string) bool {
	for _, a := range args {
		if a == dryRunFlag {
			return true
		}
	}
	return false
}

// dryRun checks, for caller, what a freeze and thaw will need: a safe hook
// file, the configuration, the state directory, every application and the
// right to act as its user. It stops, starts and records nothing.
func (e *env) dryRun(c *cli.Context, caller string) error {
	prefix := "quiesce " + caller + " " + dryRunFlag + ": "
	fail := func(err error) error {
		return &exitError{code: exitCode(&actionError{err}), msg: prefix + "FAILED: " + err.Error()}
	}
	if shim := os.Getenv("QUIESCE_HOOK"); shim != "" {
		if err := config.CheckSafe(shim); err != nil {
			return fail(fmt.Errorf("unsafe hook file: %w", err))
		}
	}
	cfg, err := e.config(c)
	if err != nil {
		return fail(err)
	}
	dir := e.stateDir(c, cfg)
	if _, err := os.Stat(dir); err == nil { // a missing one is made by the first freeze
		if _, err := state.Open(dir); err != nil {
			return fail(err)
		}
	}
	var found []string
	if cfg.HasDomino {
		srv, err := e.target(c)
		if err != nil {
			return fail(err)
		}
		if err := srv.CheckAccess(); err != nil {
			return fail(err)
		}
		st, err := srv.Status()
		if err != nil {
			return fail(err)
		}
		found = append(found, fmt.Sprintf("domino %s (%d processes)", st.State, len(st.Procs)))
	}
	for _, g := range cfg.Targets {
		t, err := generic.New(g, cfg.Source, e.source, e.log, e.clock)
		if err != nil {
			return fail(err)
		}
		if err := t.CheckAccess(); err != nil {
			return fail(err)
		}
		ps, err := t.Processes()
		if err != nil {
			return fail(err)
		}
		found = append(found, fmt.Sprintf("%s %d processes", g.Name, len(ps)))
	}
	log := e.logPath
	if log == "" {
		log = "(none)"
	}
	e.say("%sOK: configuration %s loads; %s; state %s; log %s; nothing was changed",
		prefix, cfg.Source, strings.Join(found, "; "), dir, log)
	return nil
}
