package freeze

import (
	"context"
	"time"

	"github.com/quiesce/quiesce/core/clock"
)

// Ran is one step a stop took, and how long it took.
type Ran struct {
	Name string
	Took time.Duration
}

// Escalation is how a stop's steps ran.
type Escalation struct {
	Ran    []Ran // the steps taken, in order
	Gone   bool  // nothing of the application is left
	Forced bool  // a step that kills had to run
	Last   Step  // the last step taken
}

// Escalate runs steps in order, each until the application is gone or its
// limit passes (graceful, when positive, replaces the graceful step's
// limit, as a plan shortened it), and stops at the first step after which
// nothing is left. Its steps are the plan's (PlanCaller sums the same
// ones): a stop takes at most what its plan says.
func Escalate(ctx context.Context, c clock.Clock, steps []Step, graceful time.Duration) (Escalation, error) {
	var e Escalation
	for _, st := range steps {
		limit := st.Limit
		if st.Graceful && graceful > 0 {
			limit = graceful
		}
		began := c.Now()
		gone, err := st.Do(ctx, began.Add(limit))
		e.Ran = append(e.Ran, Ran{Name: st.Name, Took: c.Now().Sub(began)})
		e.Last, e.Forced = st, e.Forced || st.Kills
		if err != nil || gone {
			e.Gone = gone
			return e, err
		}
	}
	return e, nil
}
