package freeze

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/go-multierror"
)

// Group freezes several instances as one: frozen in reverse order, thawed
// in order. A freeze that fails part-way thaws the instances it had
// already frozen before it returns. Each member is a session of its own:
// its own record, lock, holders and watchdog.
type Group struct{ Members []*Session }

var _ Operator = Group{}

// Freeze implements Operator.
func (g Group) Freeze(ctx context.Context, c Caller) (Result, error) {
	if err := g.refuse(ctx, c); err != nil {
		return Result{}, err
	}
	var frozen []*Session // in freeze order
	var parts []named
	for i := len(g.Members) - 1; i >= 0; i-- {
		m := g.Members[i]
		res, err := m.Freeze(ctx, c)
		if err != nil {
			return merge(parts), g.undo(ctx, c, frozen, m.inst.Name, err)
		}
		frozen = append(frozen, m)
		parts = append(parts, named{m.inst.Name, res})
	}
	return merge(parts), nil
}

// undo thaws, in start order, what a failed group freeze had frozen.
func (g Group) undo(ctx context.Context, c Caller, frozen []*Session, failed string, cause error) error {
	var undoErr error
	for i := len(frozen) - 1; i >= 0; i-- {
		if _, err := frozen[i].Thaw(context.WithoutCancel(ctx), c); err != nil {
			undoErr = multierror.Append(undoErr, fmt.Errorf("%s: %w", frozen[i].inst.Name, err))
		}
	}
	fe, ok := cause.(*FreezeError)
	if ok && len(frozen) == 0 {
		// nothing else was stopped: the failed member's own account is the whole story
		out := *fe
		out.Cause = fmt.Errorf("%s: %w", failed, fe.Cause)
		return &out
	}
	restored, inner := undoErr == nil, cause
	if ok {
		restored = restored && (fe.Restored || fe.Pending || fe.NotStopped)
		inner = fe.Cause // what became of the failed member, the group's error says for all
	}
	return &FreezeError{Cause: fmt.Errorf("%s: %w", failed, inner), Restored: restored, RestoreErr: undoErr}
}

// Thaw implements Operator: every member is thawed, in start order, even
// when one fails.
func (g Group) Thaw(ctx context.Context, c Caller) (Result, error) {
	var parts []named
	var errs error
	for _, m := range g.Members {
		res, err := m.Thaw(ctx, c)
		if err != nil {
			errs = multierror.Append(errs, fmt.Errorf("%s: %w", m.inst.Name, err))
			continue
		}
		parts = append(parts, named{m.inst.Name, res})
	}
	return merge(parts), errs
}

// Plan implements Operator: the members stop one after another, so their
// worst cases add up.
func (g Group) Plan(c Caller) Plan {
	var p Plan
	for i, m := range g.Members {
		mp := m.Plan(c)
		if i == 0 {
			p = mp
			continue
		}
		p.Worst += mp.Worst
		p.MinStop += mp.MinStop
		p.Start += mp.Start
		p.Capped = p.Capped || mp.Capped
		p.TooTight = p.TooTight || mp.TooTight
		p.Graceful = min(p.Graceful, mp.Graceful)
	}
	share := p.Budget
	if p.Cycle {
		share -= p.Snapshot + p.ThawLimit
	}
	if p.Budget > 0 && p.Worst > share-p.Margin {
		p.TooTight = true
	}
	p.planThaw() // the members start one after another within one thaw
	return p
}

type named struct {
	name string
	res  Result
}

// merge folds members' results into one line per operation.
func merge(parts []named) Result {
	if len(parts) == 1 {
		return parts[0].res
	}
	var out Result
	var msgs []string
	for i, p := range parts {
		if i == 0 || p.res.Outcome == Stopped || p.res.Outcome == Started {
			out.Outcome = p.res.Outcome
		}
		msgs = append(msgs, p.name+": "+p.res.Message)
		for _, w := range p.res.Warnings {
			out.Warnings = append(out.Warnings, p.name+": "+w)
		}
		out.Took += p.res.Took
		out.Downtime = max(out.Downtime, p.res.Downtime)
		out.Holders = p.res.Holders
	}
	out.Message = strings.Join(msgs, "; ")
	return out
}
