package freeze

import (
	"context"
	"fmt"
	"time"
)

// NoFitError: a caller that kills its hook at its limit gives less time
// than a clean stop needs. The freeze is refused before anything is
// touched: being killed half-way would leave the application going down
// while the caller takes a crash-consistent snapshot, or none.
type NoFitError struct {
	Caller string
	Budget time.Duration // the caller's limit
	Needs  time.Duration // the shortest limit a clean stop fits in
}

func (e *NoFitError) Error() string {
	return fmt.Sprintf("%s kills its hook after %s, too short for a clean stop (it needs at least %s): freeze refused, nothing stopped; use online mode (Domino Backup, method = auto) or raise the caller's limit and [budgets] %s",
		e.Caller, e.Budget.Round(time.Second), e.Needs.Round(time.Second), e.Caller)
}

// Needs is the shortest budget in which a clean stop fits: the least
// graceful wait worth trying, the escalation and the margin (with a cycle
// caller, the snapshot and the thaw's share as well).
func (p Plan) Needs() time.Duration {
	x := p.MinStop
	if p.Cycle {
		x += p.Snapshot + p.ThawLimit
	}
	// budget - max(budget/10, 30s) >= x
	if x+30*time.Second <= 300*time.Second {
		return x + 30*time.Second
	}
	return (x*10 + 8) / 9
}

// Refuse returns a *NoFitError when caller c kills its hook at a budget
// that cannot hold a clean stop by plan p, and nil otherwise: a caller
// that waits (or one without a budget) gets the shortened stop the plan
// allows.
func Refuse(c Caller, p Plan) error {
	if !c.Hard || c.Budget <= 0 || !p.TooTight {
		return nil
	}
	return &NoFitError{Caller: c.Name, Budget: c.Budget, Needs: p.Needs()}
}

// refuse is Refuse for the whole group, before any member is touched:
// the members are frozen one after another within the one budget. It
// refuses only when some member would change (a member not running needs
// nothing done).
func (g Group) refuse(ctx context.Context, c Caller) error {
	if !c.Hard || len(g.Members) < 2 {
		return nil // a single member refuses for itself
	}
	if err := Refuse(c, g.Plan(c)); err != nil {
		look := c
		look.Hard = false // only whether it would change, not whether it fits
		for _, m := range g.Members {
			if _, change, cerr := m.methods[len(m.methods)-1].Check(ctx, look); cerr == nil && change {
				return &FreezeError{Cause: err, NotStopped: true}
			}
		}
	}
	return nil
}
