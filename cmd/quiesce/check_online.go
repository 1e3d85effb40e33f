package main

import (
	"time"

	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/freeze/stopstart"
	"github.com/quiesce/quiesce/core/online"
	"github.com/quiesce/quiesce/vendors/hook"
)

// checkOnline says, for a caller whose limit cannot hold the stop, whether
// online mode (Domino Backup) fits it instead and what a freeze by it will
// do. It reports whether the caller's freezes are covered: online mode is
// configured, set up and fits.
func (e *env) checkOnline(ss []*freeze.Session, caller freeze.Caller, p freeze.Plan) bool {
	r := func(d time.Duration) time.Duration { return d.Round(time.Second) }
	stopLine := func() {
		if caller.Hard && p.TooTight {
			e.say("          => a freeze by %s is refused at once, leaving everything running: %s kills its hook after %s and a clean stop needs %s",
				caller.Name, caller.Name, r(caller.Budget), r(p.Needs()))
		}
	}
	var on *online.Method
	var sess *freeze.Session
	for _, s := range ss {
		if m, ok := innermost(s.Methods()[0]).(*online.Method); ok {
			on, sess = m, s
		}
	}
	if on == nil {
		why := "online mode is for Domino only"
		for _, s := range ss {
			if s.Instance().Kind == domino.TargetName {
				why = "not used: method = stop (set method = auto in [domino] and set up Domino Backup, see docs/online.md)"
			}
		}
		e.say("          online    %s", why)
		stopLine()
		return false
	}
	set := on.Settings()
	fit := online.FitCaller(caller, set)
	enter := r(fit.Enter).String()
	if fit.Capped {
		enter += " (backup_enter_timeout " + r(set.EnterTimeout).String() + " cut to fit the limit)"
	}
	method := "online"
	if sess.Plan(caller).Method == stopstart.Name {
		method = "auto"
	}
	switch {
	case !on.Configured():
		e.say("          online    would fit, backup mode within %s; but Domino Backup is not set up (no dominobackup.nsf): see docs/online.md", enter)
	case !fit.Fits:
		e.say("          online    does NOT fit either: %s leaves %s to enter backup mode, less than %s", r(caller.Budget), r(fit.Enter), online.MinEnter)
	default:
		e.say("          online    FITS: freezes use Domino Backup (no outage), backup mode within %s; method = %s", enter, method)
		if method == "auto" {
			e.say("                    with auto, a freeze while Domino Backup cannot be used falls back to the stop above")
		}
		return true
	}
	stopLine()
	return false
}

// onlineFits reports, without a word, whether online mode covers a
// caller whose limit cannot hold the stop: Domino alone, frozen online,
// set up and fitting the limit.
func (e *env) onlineFits(ss []*freeze.Session, caller freeze.Caller) bool {
	if len(ss) != 1 {
		return false
	}
	m, ok := innermost(ss[0].Methods()[0]).(*online.Method)
	return ok && m.Configured() && online.FitCaller(caller, m.Settings()).Fits
}

// quietSite is a check site that says nothing: the verdict uses what a
// caller's check finds, the full plan shows what it says.
type quietSite struct{ hook.Site }

func (quietSite) Say(string, ...any) {}

// innermost is the method m wraps, if it wraps one (a Domino server in a
// cluster: core/cluster wraps its methods), else m.
func innermost(m freeze.Method) freeze.Method {
	for {
		w, ok := m.(interface{ Unwrap() freeze.Method })
		if !ok {
			return m
		}
		m = w.Unwrap()
	}
}
