package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/core/cluster"
	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/engine"
	"github.com/quiesce/quiesce/core/freeze"
)

// checkCluster says, for a Domino server in a cluster ([cluster]),
// whether etcd answers, who holds the cluster's lock (and since when),
// how every mate is and, in full, how long a stop by each caller waits
// for the lock at most. It returns its lines and whether etcd answers
// (a stop is refused while it does not, with etcd_unreachable = fail; a
// lock held or a mate down now is the cluster's state, not a fault of
// this server's configuration).
func (e *env) checkCluster(c *cli.Context, eng *engine.Engine, ss []*freeze.Session, full bool) ([]string, bool) {
	var out []string
	say := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	ok := true
	for _, s := range ss {
		stop, cl := clusterOf(s)
		if cl == nil {
			continue
		}
		cfg := cl.Config()
		say("%s: cluster %s, this server %s; max_down %d; etcd_unreachable = %s", s.Instance().Name, cfg.Name, cl.Self(), cfg.MaxDown, cfg.Unreachable)
		sv := cl.Survey(c.Context)
		if sv.Err != nil {
			verdict := "does NOT answer"
			if cfg.Unreachable == config.UnreachableFail {
				ok = false
				verdict += " (every stop-mode freeze is refused until it does: etcd_unreachable = fail)"
			} else {
				verdict += " (a stop-mode freeze goes ahead without the lock when every mate answers on NRPC: etcd_unreachable = proceed)"
			}
			say("  etcd      %s: %v", verdict, sv.Err)
		} else {
			say("  etcd      answers: etcd %s at %s, the lock read in %s", sv.Version, sv.Endpoint, sv.Took.Round(time.Millisecond))
			say("  lock      %s", lockWords(sv.View, cfg.MaxDown))
		}
		for _, m := range sv.Mates {
			say("  mate      %s", m.Describe())
		}
		if down := cluster.Down(sv.Mates); len(down)+1 > cfg.MaxDown {
			say("            => a stop-mode freeze now is refused: %d mate(s) down or stopped, max_down %d", len(down), cfg.MaxDown)
		}
		if full && stop != nil {
			e.sayLockWaits(eng, stop, func(l string) { out = append(out, l) })
		}
	}
	return out, ok
}

// clusterOf is the cluster of s's instance and its stop under the lock;
// nil when it belongs to none.
func clusterOf(s *freeze.Session) (*cluster.Stop, *cluster.Cluster) {
	var cl *cluster.Cluster
	var stop *cluster.Stop
	for _, m := range s.Methods() {
		switch w := m.(type) {
		case *cluster.Stop:
			stop, cl = w, w.Cluster()
		case *cluster.Online:
			if cl == nil {
				cl = w.Cluster()
			}
		}
	}
	return stop, cl
}

// lockWords says who holds the lock and who waits for it.
func lockWords(v cluster.View, maxDown int) string {
	if len(v.Holders) == 0 {
		return "free" + onlineWords(v)
	}
	var held []string
	for _, h := range v.Holders {
		w := fmt.Sprintf("%s since %s", h.Describe(), h.Since.Local().Format(time.DateTime))
		if !h.Until.IsZero() {
			w += ", its lease ends by " + h.Until.Local().Format(time.TimeOnly)
		}
		if h.State == cluster.StateWaiting {
			w += " (granted, the stop not begun yet)"
		}
		held = append(held, w)
	}
	s := "held by " + strings.Join(held, "; and by ")
	if maxDown > 1 {
		s = fmt.Sprintf("%d of %d places held: by %s", len(v.Holders), maxDown, strings.Join(held, "; and by "))
	}
	if len(v.Waiting) > 0 {
		var w []string
		for _, e := range v.Waiting {
			w = append(w, e.Describe())
		}
		s += "; waiting: " + strings.Join(w, ", ")
	}
	return s + onlineWords(v)
}

// onlineWords names the mates frozen online (recorded, holding no lock).
func onlineWords(v cluster.View) string {
	var on []string
	for _, m := range v.Members {
		if m.Mode == cluster.ModeOnline {
			on = append(on, m.Describe())
		}
	}
	if len(on) == 0 {
		return ""
	}
	return "; frozen online (no lock, no outage): " + strings.Join(on, ", ")
}

// sayLockWaits shows, for every caller, how long its stop-mode freeze
// waits for the lock at most, and what limits that.
func (e *env) sayLockWaits(eng *engine.Engine, stop *cluster.Stop, say func(string)) {
	cfg := eng.Config()
	for _, a := range e.adapters {
		caller := configuredLimits(cfg, a.Name).Or(a.Defaults).Caller(a.Name, "", time.Time{})
		w, why := stop.LockWait(caller, eng.Policy().Window(caller))
		say(fmt.Sprintf("  %-9s waits for the lock at most %s (%s)", a.Name, w.Round(time.Second), why))
	}
}
