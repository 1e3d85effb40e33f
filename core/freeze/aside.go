package freeze

import "context"

// StoodAside: freeze and thaw did nothing because the application is made
// consistent by other means (Domino's VSS writer for a VSS-aware caller).
const StoodAside Outcome = 100

// Aside is the operator of a caller for which quiesce stands aside: it
// changes nothing and says why.
type Aside struct{ Why string }

var _ Operator = Aside{}

// Freeze implements Operator.
func (a Aside) Freeze(context.Context, Caller) (Result, error) {
	return Result{Outcome: StoodAside, Message: a.Why}, nil
}

// Thaw implements Operator.
func (a Aside) Thaw(context.Context, Caller) (Result, error) {
	return Result{Outcome: StoodAside, Message: a.Why}, nil
}

// Plan implements Operator: nothing to stop, nothing to wait for.
func (a Aside) Plan(c Caller) Plan { return Plan{Budget: c.Budget} }
