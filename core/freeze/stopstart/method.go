package stopstart

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/manifest"
	"github.com/quiesce/quiesce/core/state"
)

// Name is the method's name in records, logs and metrics.
const Name = "stop"

// Method stops the target for a freeze and starts it at the thaw.
type Method struct {
	t    Target
	name string // the instance's readable name, for messages
	o    Options
}

var _ freeze.Method = (*Method)(nil)

// Options change how the method judges what it finds.
type Options struct {
	// AcceptCrashed: a freeze of a target found crashed (Crasher) goes on
	// with a warning that the snapshot is only crash-consistent, instead
	// of failing.
	AcceptCrashed bool
}

// New returns the stop method of t, named name in messages.
func New(t Target, name string, o Options) *Method { return &Method{t: t, name: name, o: o} }

// Target is the application this method stops and starts.
func (m *Method) Target() Target { return m.t }

// Name implements freeze.Method.
func (m *Method) Name() string { return Name }

// data is what the method keeps in the record (version 1's field names).
type data struct {
	WasRunning bool      `json:"was_running"`
	StoppedAt  time.Time `json:"stopped_at,omitempty"`
}

func stoppedAt(r *freeze.Run) time.Time {
	var d data
	_ = r.Data(&d)
	if d.StoppedAt.IsZero() {
		return r.Rec.Since
	}
	return d.StoppedAt
}

// Plan implements freeze.Method: the stop's steps fitted into c's limits.
func (m *Method) Plan(c freeze.Caller) freeze.Plan { return freeze.PlanCaller(c, m.t.Timeouts()) }

// Deadline implements freeze.Method: a stop holds as long as the policy
// says.
func (m *Method) Deadline(*freeze.Run, freeze.Caller, time.Time) time.Time { return time.Time{} }

// Describe implements freeze.Method.
func (m *Method) Describe(*freeze.Run) string { return "frozen" }

// Late implements freeze.Method.
func (m *Method) Late() (string, string) {
	return m.name + " was started again", "may be inconsistent (the application may have been running)"
}

// Check implements freeze.Method: a target not running needs nothing
// done, unless it crashed (its data is not closed: the snapshot would be
// only crash-consistent); a caller that kills its hook at a limit no
// clean stop fits is refused before anything is touched.
func (m *Method) Check(ctx context.Context, c freeze.Caller) (freeze.Result, bool, error) {
	running, err := m.t.Running()
	if err != nil {
		return freeze.Result{}, false, &freeze.FreezeError{Cause: err, NotStopped: true}
	}
	if !running {
		return m.notRunning()
	}
	if err := freeze.Refuse(c, m.Plan(c)); err != nil {
		return freeze.Result{}, false, &freeze.FreezeError{Cause: err, NotStopped: true}
	}
	return freeze.Result{}, true, nil
}

// notRunning is the freeze of a target that is not running.
func (m *Method) notRunning() (freeze.Result, bool, error) {
	res := freeze.Result{Outcome: freeze.NotRunning, Message: m.name + " is not running; nothing to stop"}
	cr, ok := m.t.(Crasher)
	if !ok {
		return res, false, nil
	}
	left := cr.Crashed()
	if len(left) == 0 {
		return res, false, nil
	}
	crashed := &CrashedError{Name: m.name, Left: left, Noun: dataNoun(m.t)}
	if m.o.AcceptCrashed {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s is not running and did not shut down cleanly (%s left behind): this snapshot is only crash-consistent (accepted by crashed = accept)",
			m.name, strings.Join(left, ", ")))
		return res, false, nil
	}
	return res, false, crashed
}

// Holds implements freeze.Method: a target the freeze stopped must still
// be stopped.
func (m *Method) Holds(context.Context, *freeze.Run) error {
	running, err := m.t.Running()
	if err != nil {
		return err
	}
	if running {
		return fmt.Errorf("it recorded %s as stopped, but %s runs (started by someone else)", m.name, m.name)
	}
	return nil
}

// CrashedError is a freeze of an application that is not running but did
// not shut down cleanly: a snapshot of it is only crash-consistent.
type CrashedError struct {
	Name string
	Left []string
	Noun string
}

func (e *CrashedError) Error() string {
	return fmt.Sprintf("%s is not running, but it did not shut down cleanly (%s left behind): its %s are not closed, a snapshot now would be only crash-consistent; freeze refused (start it and let it recover, or set crashed = accept in [freeze] to take crash-consistent snapshots)",
		e.Name, strings.Join(e.Left, ", "), e.Noun)
}
func (e *CrashedError) Unwrap() []error { return []error{freeze.ErrFreezeFailed, freeze.ErrUnchanged} }

// Enter implements freeze.Method: the stop by the plan's steps. A stop
// that had to kill fails the freeze unless the policy accepts it.
func (m *Method) Enter(ctx context.Context, r *freeze.Run, c freeze.Caller) (freeze.Result, error) {
	r.SetData(data{WasRunning: true, StoppedAt: r.Rec.Since})
	if err := r.Save(); err != nil {
		return freeze.Result{}, err
	}
	plan := m.Plan(c)
	if plan.Capped {
		r.Log().Warn("graceful wait capped to fit the caller's budget", zap.String("caller", c.Name),
			zap.Duration("configured", plan.Configured), zap.Duration("used", plan.Graceful))
	}
	rep, err := m.t.Stop(ctx, plan.Graceful)
	res := freeze.Result{Outcome: freeze.Stopped, Forced: rep.Forced,
		Message: fmt.Sprintf("%s stopped (%s) in %s", m.name, rep.Outcome, secs(rep.Took))}
	if err == nil && rep.Forced && !r.Policy().ContinueForced {
		err = fmt.Errorf("%s could only be stopped by force (%s; killed %s): its %s may be open in the snapshot",
			m.name, rep.Outcome, strings.Join(rep.Killed, ", "), dataNoun(m.t))
	}
	if err != nil {
		return res, err
	}
	if rep.Forced {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s had to be killed (%s): %s of %s may not be closed cleanly in this snapshot",
			m.name, rep.Outcome, dataNoun(m.t), strings.Join(rep.Killed, ", ")))
	}
	res.Warnings = append(res.Warnings, m.prove(r, c, rep)...)
	return res, nil
}

// prove writes the snapshot manifest into the target's data location
// (Located): what was stopped, by whom, that no process is left, and its
// data files. A manifest that cannot be written is a warning: the
// snapshot is consistent, it only cannot prove it.
func (m *Method) prove(r *freeze.Run, c freeze.Caller, rep StopReport) []string {
	l, ok := m.t.(Located)
	if !ok {
		return nil
	}
	obs := fmt.Sprintf("%s stopped (%s); no process of it left", m.name, rep.Outcome)
	if rep.Forced {
		obs += "; killed: " + strings.Join(rep.Killed, ", ")
	}
	if err := l.Location().Take(manifest.Freeze(r, Name, c, obs), r.Now()); err != nil {
		return []string{fmt.Sprintf("no snapshot manifest written (%v): quiesce verify cannot judge this snapshot", err)}
	}
	return nil
}

// unprove removes the manifest from the live data location once the
// freeze is over: a copy taken later must not carry it.
func (m *Method) unprove(r *freeze.Run) {
	if l, ok := m.t.(Located); ok {
		if err := l.Location().Remove(); err != nil {
			r.Log().Warn("cannot remove the snapshot manifest", zap.Error(err))
		}
	}
}

// restoreTimeout bounds the readiness wait of a restore when the caller
// has already given up on this invocation.
const restoreTimeout = 2 * time.Minute

// Abort implements freeze.Method: the target is started again after a
// failed freeze, and the freeze forgotten. The result counts the outage
// the failed freeze caused.
func (m *Method) Abort(ctx context.Context, r *freeze.Run, c freeze.Caller, cause error) (freeze.Result, error) {
	m.unprove(r)
	since := stoppedAt(r)
	r.Rec.Phase = state.PhaseLeaving
	if err := r.Save(); err != nil {
		r.Log().Error("cannot record the restore; restoring anyway", zap.Error(err))
	}
	if running, _ := m.t.Running(); running && ctx.Err() != nil {
		// The caller gave up while the application is still going down: it
		// cannot be started before it is down, and this process may be
		// killed any moment. The watchdog finishes the job.
		_ = r.Pending(state.PhaseEntering, "freeze cut short while stopping: the watchdog finishes the stop and starts it")
		return freeze.Result{}, &freeze.FreezeError{Cause: cause, Pending: true}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(m.t.Timeouts().Start, restoreTimeout))
	defer cancel()
	_, serr := m.t.Start(sctx)
	down := freeze.Result{Downtime: r.Now().Sub(since)}
	if serr != nil && !errors.Is(serr, ErrAlreadyRunning) {
		_ = r.Pending(state.PhaseLeaveFailed, serr.Error())
		return down, &freeze.FreezeError{Cause: cause, RestoreErr: serr}
	}
	if err := r.Clear(); err != nil {
		r.Log().Error("cannot clear state", zap.Error(err))
	}
	if serr != nil { // already running: the failed stop never took it down
		return freeze.Result{}, &freeze.FreezeError{Cause: cause, NotStopped: true}
	}
	return down, &freeze.FreezeError{Cause: cause, Restored: true, Down: down.Downtime}
}

// Leave implements freeze.Method: the target is started when the freeze
// stopped it, and the freeze forgotten once it serves; b bounds the wait
// for readiness.
func (m *Method) Leave(ctx context.Context, r *freeze.Run, b freeze.Bound) (freeze.Result, error) {
	if !r.Rec.Owed {
		res := freeze.Result{Outcome: freeze.NotStarted, Message: m.name + " was not running before the freeze; left stopped"}
		if by := r.Rec.Disowned; by != "" {
			res.Message = fmt.Sprintf("%s left as it is: %s (what was done by hand ends the freeze's claim to start it)", m.name, by)
		}
		return res, r.Clear()
	}
	m.unprove(r)
	since := stoppedAt(r)
	rep, out, blocked, err := m.startWithin(ctx, r, b)
	downtime := r.Now().Sub(since)
	var te *freeze.ThawError
	switch {
	case errors.As(err, &te):
		return freeze.Result{Downtime: downtime}, err
	case err != nil:
		return freeze.Result{}, err
	case out == freeze.Launched:
		return m.launched(rep), nil
	}
	res := freeze.Result{Outcome: freeze.Started, Downtime: downtime,
		Message: fmt.Sprintf("%s started and serving in %s (down %s)", m.name, secs(rep.Ready), secs(downtime))}
	switch out {
	case freeze.FoundRunning:
		res = freeze.Result{Outcome: freeze.FoundRunning, Message: m.name + " is running already (started by someone else); nothing to do",
			Warnings: []string{m.name + " was started by someone else during the freeze"}}
	case freeze.NotStarted:
		res = freeze.Result{Outcome: freeze.NotStarted, Message: "not started: " + blocked.Error(), Warnings: []string{blocked.Error()}}
	}
	if err := r.Clear(); err != nil {
		// The application is back: only the bookkeeping failed. The record
		// still says it is stopped, so the thaw must not say all is well.
		return res, &freeze.ThawError{Cause: fmt.Errorf("%s: %s, but its freeze could not be cleared from the state directory: %w (the watchdog retries; 'quiesce recover' clears it)", m.name, res.Message, err)}
	}
	return res, nil
}

// Settle implements freeze.Method: a stop cut short is finished, then
// the target is started if a freeze stopped it.
func (m *Method) Settle(ctx context.Context, r *freeze.Run, why freeze.Why) (freeze.Result, error) {
	m.unprove(r)
	forced := false
	if why == freeze.Interrupted && r.Rec.Phase == state.PhaseEntering {
		rep, err := m.t.Stop(ctx, m.graceful())
		if err != nil {
			return freeze.Result{}, fmt.Errorf("finishing the interrupted stop: %w", err)
		}
		r.Log().Info("interrupted stop finished", zap.String("outcome", rep.Outcome), zap.Strings("killed", rep.Killed))
		forced = rep.Forced
	}
	res, err := m.bringBack(ctx, r)
	res.Forced = res.Forced || forced
	m.settleLaunch(r, res, err)
	return res, err
}

// graceful is the configured graceful wait.
func (m *Method) graceful() time.Duration {
	for _, st := range m.t.Timeouts().Steps {
		if st.Graceful {
			return st.Limit
		}
	}
	return 0
}

// bringBack starts the target if a freeze stopped it.
func (m *Method) bringBack(ctx context.Context, r *freeze.Run) (freeze.Result, error) {
	if !r.Rec.Owed {
		return freeze.Result{Outcome: freeze.NotStarted, Message: m.name + " was not stopped by a freeze; nothing to start"}, nil
	}
	since := stoppedAt(r)
	rep, out, blocked, err := m.startStopped(ctx, r)
	if err != nil {
		return freeze.Result{}, err
	}
	switch out {
	case freeze.FoundRunning:
		if werr := m.waitServing(ctx); werr != nil {
			r.Log().Error("the start under way does not become ready; an administrator must look", zap.String("by", r.Who), zap.Error(werr))
			_ = r.Clear() // starting again is impossible while it runs
			return freeze.Result{}, &freeze.ThawError{Cause: fmt.Errorf("%s runs but does not serve: %w", m.name, werr)}
		}
		return freeze.Result{Outcome: freeze.FoundRunning, Message: m.name + " is running already; nothing to start"}, nil
	case freeze.NotStarted:
		r.Log().Error("not starting: starts are blocked", zap.String("by", r.Who), zap.Error(blocked))
		return freeze.Result{Outcome: freeze.NotStarted, Message: "not started: " + blocked.Error(), Warnings: []string{blocked.Error()}}, nil
	}
	return freeze.Result{Outcome: freeze.Started, Downtime: r.Now().Sub(since),
		Message: fmt.Sprintf("%s started by %s and serving in %s", m.name, r.Who, secs(rep.Ready))}, nil
}

// waitServing waits, when recovery finds the target running (a start an
// interrupted run launched, or one nobody recorded), until it serves.
func (m *Method) waitServing(ctx context.Context) error {
	w, ok := m.t.(Waiter)
	if !ok {
		return nil
	}
	return w.WaitReady(ctx)
}

// startStopped starts the target a freeze stopped: the start is recorded
// first, so an interrupted one is found and finished, and a failed one is
// recorded as still owed (leave-failed) for a retry. Starting comes before
// bookkeeping: a record that cannot be written is logged, and the start
// goes on. out is Started, FoundRunning (it runs already) or NotStarted
// (blocked says by what); err is a *ThawError when the start failed.
func (m *Method) startStopped(ctx context.Context, r *freeze.Run) (StartReport, freeze.Outcome, error, error) {
	r.Rec.Phase = state.PhaseLeaving
	if err := r.Save(); err != nil {
		r.Log().Error("cannot record the start; starting anyway", zap.Error(err))
	}
	rep, err := m.t.Start(ctx)
	return m.started(r, rep, err)
}

// started sorts out how a start ended; a failed one is recorded as still
// owed (leave-failed).
func (m *Method) started(r *freeze.Run, rep StartReport, err error) (StartReport, freeze.Outcome, error, error) {
	switch {
	case errors.Is(err, ErrAlreadyRunning):
		return rep, freeze.FoundRunning, nil, nil
	case errors.Is(err, ErrStartBlocked):
		return rep, freeze.NotStarted, err, nil
	case err != nil:
		r.Rec.Phase, r.Rec.Note = state.PhaseLeaveFailed, err.Error()
		_ = r.Save()
		return rep, 0, nil, &freeze.ThawError{Cause: err}
	}
	return rep, freeze.Started, nil, nil
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

// NewSession is the session of an instance frozen only by stopping it.
func NewSession(t Target, inst freeze.Instance, store *state.Store, p freeze.Policy, log *zap.Logger, c clock.Clock) *freeze.Session {
	return freeze.New(inst, store, p, log, c, freeze.Options{Methods: []freeze.Method{New(t, inst.Name, Options{AcceptCrashed: p.CrashConsistent})}})
}
