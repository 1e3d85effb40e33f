package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/vendors/hook"
)

func checkCommand(e *env) *cli.Command {
	return &cli.Command{Name: "check", Action: e.checkAction,
		Usage: checkUsage(),
		Flags: checkFlags(e.adapters)}
}

// configuredLimits are the limits the configuration sets for a caller;
// unset ones stay zero (the adapter's defaults apply).
func configuredLimits(cfg config.File, caller string) hook.Limits {
	return hook.Limits{Budget: cfg.Budgets.Get(caller),
		Limits: freeze.Limits{Thaw: cfg.Budgets.Thaw(caller), Snapshot: cfg.Budgets.Snapshot(caller)}}
}

// checkAction reports, for each caller, the worst case of a freeze and of
// a thaw against the caller's limits, and what to change when they do
// not fit.
func (e *env) checkAction(c *cli.Context) error {
	fs, cfg, err := e.freezers(c)
	if err != nil {
		return err
	}
	for _, w := range cfg.Warnings {
		e.say("warning: %s", w)
	}
	allFit := true
	for _, a := range e.adapters {
		caller := configuredLimits(cfg, a.Name).Or(a.Defaults).Caller(a.Name, "", time.Time{})
		p := freeze.Group{Members: fs}.Plan(caller)
		verdict, counted := "fits", e.counted(c, a, caller)
		if !p.Fits() {
			verdict = "DOES NOT FIT"
			if !counted {
				verdict = "stop does not fit (no " + a.Name + " hook installed here: not counted in check's result)"
			}
		}
		e.sayPlan(a.Name, verdict, p)
		if !p.Fits() && !e.checkOnline(c, cfg, len(fs), caller, p) && counted {
			allFit = false
		}
		if a.Install != nil && a.Install.Check != nil && !a.Install.Check(e.checkSite(c, a)) {
			allFit = false
		}
		if cfg.HasDomino {
			if _, why := domino.StandsAside(cfg, a.Name); why != "" {
				e.say("          domino: %s", why)
			}
		}
		for _, f := range fs {
			keys := freeze.Keys{Shutdown: "stop_timeout of [target " + f.TargetName() + "]", Budget: a.Hints.Budget, Thaw: a.Hints.Thaw}
			if _, isDomino := f.Target().(domino.Freezable); isDomino {
				keys.Shutdown = cfg.Key(config.SetShutdownTimeout)
			}
			fp := f.Plan(caller)
			if adv := fp.AdviceFor(keys); adv != "" {
				e.say("          %s: %s", f.TargetName(), adv)
			}
			if note := fp.ThawNote(keys); note != "" {
				e.say("          %s: %s", f.TargetName(), note)
			}
		}
	}
	e.say("%s", checkLegend())
	hooksOK := e.checkHooks(c)
	if !allFit || !hooksOK {
		return &exitError{code: ExitFailure}
	}
	return nil
}

// sayPlan prints one caller's plan: the freeze and the thaw against the
// caller's limits.
func (e *env) sayPlan(name, verdict string, p freeze.Plan) {
	r := func(d time.Duration) time.Duration { return d.Round(time.Second) }
	limit := func(d time.Duration, what string) string {
		if d == 0 {
			return "no limit"
		}
		return r(d).String() + " " + what
	}
	if p.Cycle {
		e.say("%-9s %s: one timer of %s for freeze, snapshot and thaw", name, verdict, r(p.Budget))
		e.say("          freeze    worst %s (graceful wait %s, escalation %s)", r(p.Worst), r(p.Graceful), r(p.Escalation))
		e.say("          snapshot  %s (estimate)", r(p.Snapshot))
		e.say("          thaw      worst %s of the %s kept for it", r(p.ThawWorst), r(p.ThawLimit))
		e.say("          margin    %s", r(p.Margin))
		return
	}
	e.say("%-9s %s", name, verdict)
	e.say("          freeze    worst %s (graceful wait %s, escalation %s); limit %s", r(p.Worst), r(p.Graceful), r(p.Escalation), limit(p.Budget, "per freeze, margin "+r(p.Margin).String()))
	e.say("          thaw      worst %s; limit %s", r(p.ThawWorst), limit(p.ThawLimit, "per thaw"))
}
