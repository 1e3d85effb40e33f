package freeze

import (
	"fmt"
	"time"
)

// Plan is how a freeze fits into a caller's time budget.
type Plan struct {
	Budget     time.Duration // 0: the caller sets no limit
	Margin     time.Duration // kept free for the caller and for restoring
	Graceful   time.Duration // graceful wait used for this freeze
	Configured time.Duration // graceful wait configured
	Escalation time.Duration // nsd -kill, SIGTERM, SIGKILL at most
	Worst      time.Duration // longest a freeze can take
	Capped     bool          // Graceful is shorter than configured
	TooTight   bool          // the budget leaves less than MinGraceful for a clean stop
}

// MinGraceful is the shortest graceful wait worth attempting.
const MinGraceful = 30 * time.Second

// toolSlack covers starting the kill tool and the final checks.
const toolSlack = 10 * time.Second

// PlanFor fits a target's timeouts into a caller's budget: the graceful
// wait is shortened so that the stop, with its whole escalation, ends with
// a margin of a tenth of the budget (at least 30 s) left.
func PlanFor(budget time.Duration, t Timeouts) Plan {
	p := Plan{Budget: budget, Configured: t.Shutdown, Graceful: t.Shutdown,
		Escalation: 3*t.KillWait + toolSlack}
	if budget > 0 {
		p.Margin = max(budget/10, 30*time.Second)
		avail := budget - p.Margin - p.Escalation - t.PreShutdown
		if avail < p.Graceful {
			p.Graceful, p.Capped = max(avail, 0), true
		}
		p.TooTight = p.Graceful < min(MinGraceful, t.Shutdown)
	}
	p.Worst = t.PreShutdown + p.Graceful + p.Escalation
	return p
}

// Fits reports whether the configured timeouts fit unchanged.
func (p Plan) Fits() bool { return !p.Capped && !p.TooTight }

// Advice says what to change when the plan does not fit, "" when it does.
func (p Plan) Advice(shutdownKey string) string {
	switch {
	case p.TooTight:
		return fmt.Sprintf("the budget of %s leaves only %s for a clean shutdown: raise the caller's timeout, or lower the kill wait", p.Budget, p.Graceful.Round(time.Second))
	case p.Capped:
		return fmt.Sprintf("%s=%s does not fit: freezes will escalate after %s; set %s to at most %s or raise the caller's timeout",
			shutdownKey, p.Configured, p.Graceful.Round(time.Second), shutdownKey, p.Graceful.Round(time.Second))
	}
	return ""
}
