package freeze

import (
	"context"
	"fmt"
	"time"
)

// Limits are the time limits of a caller beyond its freeze budget.
type Limits struct {
	// Thaw is what the caller gives one thaw: a thaw that would take
	// longer returns once the application is launched, and the watchdog
	// proves readiness. With Cycle it is the part of the one timer kept
	// for the thaw. 0: no limit; a thaw waits until the application serves.
	Thaw time.Duration
	// Snapshot is, with Cycle, how long the snapshot itself takes.
	Snapshot time.Duration
	// Cycle: the caller's Budget is one timer for freeze, snapshot and
	// thaw together (VMware Tools).
	Cycle bool
	// Hard: the caller kills its hook when Budget ends and reports a
	// failure (the cloud agents, Nutanix). A stop that cannot fit is then
	// refused before anything is touched (see Refuse), rather than begun
	// and killed half-way.
	Hard bool
}

// Plan is how a freeze, and the thaw after it, fit a caller's limits.
type Plan struct {
	Method     string        // the freeze method planned
	Budget     time.Duration // freeze budget (with Cycle: freeze + snapshot + thaw); 0: none
	Cycle      bool          // Budget is one timer for the whole cycle
	Snapshot   time.Duration // with Cycle: the snapshot estimate
	Margin     time.Duration // kept free for the caller and for restoring
	Steps      []Step        // the stop's steps, each with the limit this freeze gives it
	Graceful   time.Duration // graceful wait used for this freeze
	Configured time.Duration // graceful wait configured
	Before     time.Duration // the steps before the graceful wait (a pre-shutdown command)
	Escalation time.Duration // the steps after it (nsd -kill, signals) at most
	Worst      time.Duration // longest a freeze can take: the sum of Steps
	Capped     bool          // Graceful is shorter than configured
	TooTight   bool          // the budget leaves less than MinGraceful for a clean stop
	MinStop    time.Duration // the shortest clean stop: the steps with the least graceful wait worth trying
	Hard       bool          // the caller kills its hook at Budget

	Start     time.Duration // configured start timeout: the longest a start may take to serve
	ThawLimit time.Duration // what the caller gives one thaw; 0: no limit
	ThawWait  time.Duration // a thaw waits this long for readiness, then hands over to the watchdog; 0: until Start
	ThawWorst time.Duration // longest a thaw can take
	ThawTight bool          // the thaw limit is too short even to launch the application reliably
}

// Step is one step of a stop, as data: the escalation runs a target's
// steps in order (Escalate), each until the application is gone or its
// limit passes, and the plan sums exactly those limits, so that what a
// stop may take and what the plan says it takes cannot drift apart.
type Step struct {
	Name     string        // "pre-shutdown", "graceful", "nsd-kill", "sigterm", ... (the log's stop phases)
	What     string        // what it does, for check ("server -q, wait for every process to exit")
	Limit    time.Duration // the longest it takes, its tool and its wait together
	Graceful bool          // the graceful wait: a plan shortens it to fit a caller's budget
	Kills    bool          // the application is killed from this step on: its data may not be closed
	// Do takes the step and waits, until deadline at the latest, for the
	// application to be gone; gone says whether it is. nil in plans.
	Do func(ctx context.Context, deadline time.Time) (gone bool, err error)
}

// Timeouts are what a target's plan is made from: its stop's steps and
// the longest a start may take to serve.
type Timeouts struct {
	Steps []Step
	Start time.Duration
}

// graceful is the graceful step's limit, and the sums of the steps before
// and after it.
func (t Timeouts) graceful() (before, graceful, after time.Duration) {
	seen := false
	for _, st := range t.Steps {
		switch {
		case st.Graceful:
			graceful, seen = st.Limit, true
		case seen:
			after += st.Limit
		default:
			before += st.Limit
		}
	}
	return before, graceful, after
}

// MinGraceful is the shortest graceful wait worth attempting.
const MinGraceful = 30 * time.Second

// MinThawWait is the shortest readiness wait a bounded thaw uses: time to
// launch the application, so that the thaw can see it running.
const MinThawWait = 2 * time.Second

// cycleSafety is kept free at the end of a cycle caller's timer, inside
// the margin the freeze plan leaves: VMware sends SIGTERM when its timer
// ends.
const cycleSafety = 10 * time.Second

// PlanFor fits a target's stop into a freeze budget: the graceful wait is
// shortened so that the stop, with its whole escalation, ends with a
// margin of a tenth of the budget (at least 30 s) left.
func PlanFor(budget time.Duration, t Timeouts) Plan {
	return PlanCaller(Caller{Budget: budget}, t)
}

// PlanCaller fits a target's stop into caller c's limits. With a cycle
// caller the freeze gets what the timer leaves after the snapshot, the
// thaw and the margin: the graceful wait is cut first, never the thaw.
func PlanCaller(c Caller, t Timeouts) Plan {
	before, graceful, after := t.graceful()
	p := Plan{Method: "stop", Budget: c.Budget, Cycle: c.Cycle, Hard: c.Hard, Configured: graceful, Graceful: graceful,
		Before: before, Escalation: after, Start: t.Start, ThawLimit: c.Thaw}
	p.MinStop = before + min(MinGraceful, graceful) + after
	if c.Budget > 0 {
		share := c.Budget
		if c.Cycle {
			p.Snapshot = c.Snapshot
			share -= c.Snapshot + c.Thaw
		}
		p.Margin = max(c.Budget/10, 30*time.Second)
		avail := share - p.Margin - after - before
		if avail < p.Graceful {
			p.Graceful, p.Capped = max(avail, 0), true
		}
		p.TooTight = p.Graceful < min(MinGraceful, graceful)
	}
	for _, st := range t.Steps {
		if st.Graceful {
			st.Limit = p.Graceful
		}
		st.Do = nil
		p.Steps = append(p.Steps, st)
		p.Worst += st.Limit
	}
	p.planThaw()
	return p
}

// planThaw derives the thaw's wait and worst case from its limit.
func (p *Plan) planThaw() {
	p.ThawWait, p.ThawTight = 0, false
	if p.ThawLimit > 0 {
		p.ThawWait = p.ThawLimit - ThawMargin(p.ThawLimit)
		if p.ThawWait < MinThawWait {
			p.ThawWait, p.ThawTight = MinThawWait, true
		}
	}
	p.ThawWorst = p.Start
	if p.Bounded() {
		p.ThawWorst = p.ThawWait
	}
}

// ThawMargin is what a bounded thaw keeps free of the caller's thaw limit
// for starting quiesce and answering the caller: a tenth, 2 s to 30 s.
func ThawMargin(limit time.Duration) time.Duration {
	return min(max(limit/10, 2*time.Second), 30*time.Second)
}

// Bounded reports whether a start may outlast the thaw: the thaw then
// returns once the application is launched, and the watchdog proves
// readiness.
func (p Plan) Bounded() bool { return p.ThawWait > 0 && p.Start > p.ThawWait }

// Fits reports whether the configured timeouts fit unchanged.
func (p Plan) Fits() bool { return !p.Capped && !p.TooTight && !p.ThawTight }

// Keys name the settings an administrator changes, for advice.
type Keys struct {
	Shutdown string // the target's graceful stop timeout
	Budget   string // the caller's budget
	Thaw     string // the caller's thaw limit
}

// Advice says what to change when the plan does not fit, "" when it does.
func (p Plan) Advice(shutdownKey string) string {
	return p.AdviceFor(Keys{Shutdown: shutdownKey, Budget: "the caller's timeout", Thaw: "the caller's thaw limit"})
}

// AdviceFor is Advice naming the exact settings.
func (p Plan) AdviceFor(k Keys) string {
	g := p.Graceful.Round(time.Second)
	switch {
	case p.TooTight && p.Cycle:
		return fmt.Sprintf("the one timer of %s leaves only %s for a clean shutdown after the snapshot (%s) and the thaw (%s): raise %s, or lower %s",
			p.Budget, g, p.Snapshot, p.ThawLimit, k.Budget, k.Thaw)
	case p.TooTight:
		return fmt.Sprintf("the budget of %s leaves only %s for a clean shutdown: raise %s, or lower the kill wait", p.Budget, g, k.Budget)
	case p.Capped:
		return fmt.Sprintf("%s=%s does not fit: freezes will escalate after %s; set %s to at most %s or raise %s",
			k.Shutdown, p.Configured, g, k.Shutdown, g, k.Budget)
	case p.ThawTight:
		return fmt.Sprintf("a thaw limit of %s is too short to launch the application and answer in time: raise %s", p.ThawLimit, k.Thaw)
	}
	return ""
}

// ThawNote explains a bounded thaw, "" when a thaw waits until the
// application serves.
func (p Plan) ThawNote(k Keys) string {
	if !p.Bounded() {
		return ""
	}
	return fmt.Sprintf("a start slower than %s (start timeout %s) outlives the thaw: the thaw answers with a warning once the application runs, and the watchdog proves it serves; to wait longer, raise %s",
		p.ThawWait.Round(time.Second), p.Start, k.Thaw)
}
