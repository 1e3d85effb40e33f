package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/freeze/stopstart"
	"github.com/quiesce/quiesce/core/mariadb"
	"github.com/quiesce/quiesce/core/online"
	"github.com/quiesce/quiesce/core/postgresql"
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
	eng, err := e.engine(c)
	if err != nil {
		return err
	}
	ss, err := eng.Sessions()
	if err != nil {
		return &actionError{err}
	}
	cfg := eng.Config()
	for _, w := range cfg.Warnings {
		e.say("warning: %s", w)
	}
	e.sayEscalations(ss)
	allFit := e.checkDatabases(c, ss, eng.Policy(), cfg)
	for _, a := range e.adapters {
		caller := configuredLimits(cfg, a.Name).Or(a.Defaults).Caller(a.Name, "", time.Time{})
		op, why, err := eng.Operator(a.Name)
		if err != nil {
			return &actionError{err}
		}
		p := op.Plan(caller)
		verdict, counted := "fits", e.counted(c, a, caller)
		if !p.Fits() {
			verdict = "DOES NOT FIT"
			if !counted {
				verdict = "stop does not fit (no " + a.Name + " hook installed here: not counted in check's result)"
			}
		}
		e.sayPlan(a.Name, verdict, p)
		if !p.Fits() && !e.checkOnline(ss, caller, p) && counted {
			allFit = false
		}
		if a.Install != nil && a.Install.Check != nil && !a.Install.Check(e.checkSite(c, a)) {
			allFit = false
		}
		if why != "" {
			e.say("          domino: %s", why)
		}
		for _, s := range ss {
			keys := freeze.Keys{Shutdown: "stop_timeout of [target " + s.Instance().Name + "]", Budget: a.Hints.Budget, Thaw: a.Hints.Thaw}
			if s.Instance().Kind == domino.TargetName {
				keys.Shutdown = cfg.Key(config.SetShutdownTimeout)
			}
			fp := s.Plan(caller)
			if adv := fp.AdviceFor(keys); adv != "" {
				e.say("          %s: %s", s.Instance().Name, adv)
			}
			if note := fp.ThawNote(keys); note != "" {
				e.say("          %s: %s", s.Instance().Name, note)
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

// sayEscalations shows, for each application, the steps its stop takes
// with the limit of each and their sum: what every plan below counts.
func (e *env) sayEscalations(ss []*freeze.Session) {
	for _, s := range ss {
		p := s.Plan(freeze.Caller{})
		if p.Method != stopstart.Name {
			p = s.Methods()[len(s.Methods())-1].Plan(freeze.Caller{})
		}
		if p.Method != stopstart.Name {
			continue // frozen online only (a database without a manager): checkDatabases
		}
		e.say("%s: a stop takes at most %s:", s.Instance().Name, p.Worst.Round(time.Second))
		for _, st := range p.Steps {
			e.say("  %-13s %8s  %s", st.Name, st.Limit.Round(time.Second), st.What)
		}
	}
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
	if p.Method == mariadb.Name || p.Method == postgresql.Name {
		e.say("%-9s %s (database lock: see above)", name, verdict)
		return
	}
	if p.Method == online.Name {
		e.say("%-9s %s", name, verdict)
		e.say("          freeze    worst %s (every database into Domino Backup's backup mode); limit %s", r(p.Worst), limit(p.Budget, "per freeze"))
		e.say("          thaw      worst %s (backup mode ends, deltas written); limit %s", r(p.ThawWorst), limit(p.ThawLimit, "per thaw"))
		return
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
