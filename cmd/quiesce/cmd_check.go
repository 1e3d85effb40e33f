package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/engine"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/freeze/stopstart"
	"github.com/quiesce/quiesce/core/mariadb"
	"github.com/quiesce/quiesce/core/online"
	"github.com/quiesce/quiesce/core/postgresql"
	"github.com/quiesce/quiesce/vendors/hook"
)

func checkCommand(e *env) *cli.Command {
	return &cli.Command{Name: "check", Action: e.checkAction, ArgsUsage: "[CALLER...]",
		Usage: checkUsage(),
		Flags: append(checkFlags(e.adapters), &cli.BoolFlag{Name: "all", Usage: "show every caller's plan in full (as naming every caller does)"})}
}

// configuredLimits are the limits the configuration sets for a caller;
// unset ones stay zero (the adapter's defaults apply).
func configuredLimits(cfg config.File, caller string) hook.Limits {
	return hook.Limits{Budget: cfg.Budgets.Get(caller),
		Limits: freeze.Limits{Thaw: cfg.Budgets.Thaw(caller), Snapshot: cfg.Budgets.Snapshot(caller)}}
}

// checkAction leads with the verdict for every hook installed here (and
// for the callers with no hook on the guest, Arcserve's console commands),
// against the configuration each hook uses; --all, or the callers named,
// show each caller's plan in full. The exit code says whether every
// installed hook fits and works.
func (e *env) checkAction(c *cli.Context) error {
	selected, err := e.checkSelection(c)
	if err != nil {
		return err
	}
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
	dbLines, dbOK := e.checkDatabases(c, ss, eng.Policy(), cfg, len(selected) > 0)
	clusterLines, clusterOK := e.checkCluster(c, eng, ss, len(selected) > 0)
	dbLines, dbOK = append(dbLines, clusterLines...), dbOK && clusterOK
	var verdicts []callerVerdict
	for _, a := range e.adapters {
		verdicts = append(verdicts, e.checkCaller(c, eng, a))
	}
	ok := e.sayVerdicts(c, cfg, verdicts, dbOK)
	for _, l := range dbLines {
		e.say("%s", l)
	}
	if e.logProblem != "" {
		e.say("log: %s", e.logProblem)
	}
	if len(selected) == 0 {
		e.say("each caller's plan in full: quiesce check --all, or quiesce check CALLER")
		return exitFor(ok)
	}
	e.say("")
	e.sayEscalations(ss)
	for _, v := range verdicts {
		if selected[v.a.Name] {
			e.sayCallerPlan(c, eng, ss, v)
		}
	}
	e.say("%s", checkLegend())
	if !e.checkHooks(c) {
		ok = false
	}
	return exitFor(ok)
}

func exitFor(ok bool) error {
	if !ok {
		return &exitError{code: ExitFailure}
	}
	return nil
}

// checkSelection is the callers to show in full: those named, every one
// with --all, none otherwise. A name that is no caller is a usage error.
func (e *env) checkSelection(c *cli.Context) (map[string]bool, error) {
	sel := map[string]bool{}
	for _, name := range c.Args().Slice() {
		if strings.HasPrefix(name, "-") {
			return nil, &exitError{code: ExitUsage, msg: fmt.Sprintf("%s check: %s comes after a caller's name; options go first: %s check [options] CALLER...", e.prog, name, e.prog)}
		}
		if _, ok := e.adapters.Find(name); !ok {
			return nil, &exitError{code: ExitUsage, msg: fmt.Sprintf("%s check: %q is no caller (callers: %s)", e.prog, name, strings.Join(e.adapterNames(), ", "))}
		}
		sel[name] = true
	}
	if c.Bool("all") {
		for _, a := range e.adapters {
			sel[a.Name] = true
		}
	}
	return sel, nil
}

func (e *env) adapterNames() []string {
	var out []string
	for _, a := range e.adapters {
		out = append(out, a.Name)
	}
	return out
}

// callerVerdict is what check found for one caller.
type callerVerdict struct {
	a        hook.Adapter
	caller   freeze.Caller
	plan     freeze.Plan
	fits     bool     // the freeze and the thaw fit its limits (online counts)
	hooks    []string // the hooks of quiesce's installed here
	local    bool     // the caller's hook lives on this guest (so "not installed" can be told)
	problems []string // an installed hook that will not work as checked
	aside    string   // Domino's VSS writer and this caller
}

// checkCaller judges one caller against the configuration and its hooks.
func (e *env) checkCaller(c *cli.Context, eng *engine.Engine, a hook.Adapter) callerVerdict {
	cfg := eng.Config()
	v := callerVerdict{a: a, caller: configuredLimits(cfg, a.Name).Or(a.Defaults).Caller(a.Name, "", time.Time{})}
	op, why, err := eng.Operator(a.Name)
	if err != nil {
		v.problems = append(v.problems, err.Error())
		return v
	}
	v.aside, v.plan = why, op.Plan(v.caller)
	ss, _ := eng.Sessions()
	v.fits = v.plan.Fits() || e.onlineFits(ss, v.caller)
	if a.Install != nil && a.Install.Hooks != nil {
		v.local = true
		for _, p := range a.Install.Hooks(e.checkSite(c, a)) {
			if hook.Ours(p) {
				v.hooks = append(v.hooks, p)
				if msg := hookConfigProblem(p, cfg.Source); msg != "" {
					v.problems = append(v.problems, msg)
				}
			}
		}
	}
	if a.Install != nil && a.Install.Check != nil && !a.Install.Check(quietSite{e.checkSite(c, a)}) {
		v.problems = append(v.problems, "its hook is not where "+a.Name+" runs it (quiesce check "+a.Name+" says why)")
	}
	return v
}

// hookConfigProblem says when the hook at path uses another configuration
// than the one checked: its freezes follow that one, not what check
// reports here.
func hookConfigProblem(path, checked string) string {
	body, err := hook.ReadHook(path)
	if err != nil {
		return ""
	}
	opts, _ := hook.ParseOptions(body)
	used := opts.Config
	if used == "" {
		found, err := config.Find("", config.DefaultPaths)
		if err != nil {
			return fmt.Sprintf("hook %s passes no --config and no default configuration exists: every backup would fail", path)
		}
		used = found
	}
	if samePath(used, checked) {
		return ""
	}
	return fmt.Sprintf("hook %s uses %s, not %s checked here: its freezes follow %s (check it with quiesce --config %s check, or reinstall the hook with this configuration)",
		path, used, checked, used, used)
}

func samePath(a, b string) bool {
	ra, errA := filepath.EvalSymlinks(a)
	rb, errB := filepath.EvalSymlinks(b)
	if errA != nil || errB != nil {
		return filepath.Clean(a) == filepath.Clean(b)
	}
	return ra == rb
}

// sayVerdicts prints the verdict per installed hook (and per caller with
// no hook on the guest) and reports whether all is well.
func (e *env) sayVerdicts(c *cli.Context, cfg config.File, vs []callerVerdict, dbOK bool) bool {
	ok := dbOK
	var lines, notInstalled []string
	for _, v := range vs {
		installed := len(v.hooks) > 0 || !v.local
		if !installed {
			notInstalled = append(notInstalled, v.a.Name)
			continue
		}
		verdict := "fits"
		if !v.fits {
			verdict, ok = "DOES NOT FIT", false
		}
		where := "no hook on this guest: " + v.a.Name + "'s commands run quiesce with the configuration they name"
		if len(v.hooks) > 0 {
			where = "hook " + strings.Join(v.hooks, ", ")
		}
		lines = append(lines, fmt.Sprintf("  %-9s %-13s %s", v.a.Name, verdict, where))
		for _, p := range v.problems {
			ok = false
			lines = append(lines, "            PROBLEM: "+p)
		}
		if v.aside != "" {
			lines = append(lines, "            domino: "+v.aside)
		}
	}
	head := "OK: every installed hook fits and uses this configuration"
	if !ok {
		head = "PROBLEMS (below): an installed hook does not fit or will not work as checked, a database cannot be frozen, or the cluster's etcd does not answer"
	}
	e.say("quiesce check: %s", head)
	e.say("configuration: %s", cfg.Source)
	for _, l := range lines {
		e.say("%s", l)
	}
	if len(notInstalled) > 0 {
		e.say("  not installed here: %s", strings.Join(notInstalled, ", "))
	}
	return ok
}

// sayCallerPlan prints one caller's plan in full: the freeze and the thaw
// against its limits, the online alternative, and what to change.
func (e *env) sayCallerPlan(c *cli.Context, eng *engine.Engine, ss []*freeze.Session, v callerVerdict) {
	cfg := eng.Config()
	verdict := "fits"
	switch {
	case v.plan.Fits():
	case v.local && len(v.hooks) == 0 && v.caller.Hard:
		verdict = "stop does not fit (no " + v.a.Name + " hook installed here: not counted in check's result)"
	default:
		verdict = "DOES NOT FIT"
	}
	e.sayPlan(v.a.Name, verdict, v.plan)
	if !v.plan.Fits() {
		e.checkOnline(ss, v.caller, v.plan)
	}
	if v.a.Install != nil && v.a.Install.Check != nil {
		v.a.Install.Check(e.checkSite(c, v.a))
	}
	if v.aside != "" {
		e.say("          domino: %s", v.aside)
	}
	for _, s := range ss {
		keys := freeze.Keys{Shutdown: "stop_timeout of [target " + s.Instance().Name + "]", Budget: v.a.Hints.Budget, Thaw: v.a.Hints.Thaw}
		if s.Instance().Kind == domino.TargetName {
			keys.Shutdown = cfg.Key(config.SetShutdownTimeout)
		}
		fp := s.Plan(v.caller)
		if adv := fp.AdviceFor(keys); adv != "" {
			e.say("          %s: %s", s.Instance().Name, adv)
		}
		if note := fp.ThawNote(keys); note != "" {
			e.say("          %s: %s", s.Instance().Name, note)
		}
	}
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
