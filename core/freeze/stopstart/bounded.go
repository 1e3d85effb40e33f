package stopstart

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/state"
)

// A bounded thaw: a caller that gives a thaw less time than a start may
// take (Proxmox VE: 3 minutes, 10 s on older releases; VMware: what its one
// timer leaves) gets its answer in time. The thaw launches the application
// and waits for readiness only until the caller's limit (less a margin);
// an application launched but not serving by then is handed to the
// watchdog, which proves it serves, starts it again if it went away, or
// reports that it never served. The thaw says so in a warning, and the
// start note in the state directory keeps the outcome for 'status'.

// startWithin is startStopped waiting for readiness only until b.By
// (zero: no bound). An application launched but not yet serving then
// gives Launched, and the watchdog takes over; one not even launched
// gives a ThawError, and the watchdog goes on starting it.
func (m *Method) startWithin(ctx context.Context, r *freeze.Run, b freeze.Bound) (StartReport, freeze.Outcome, error, error) {
	if b.By.IsZero() {
		return m.startStopped(ctx, r)
	}
	began := r.Now()
	wait := max(b.By.Sub(began), freeze.MinThawWait)
	sctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	r.Rec.Phase = state.PhaseLeaving
	if err := r.Save(); err != nil {
		r.Log().Error("cannot record the start; starting anyway", zap.Error(err))
	}
	rep, err := m.t.Start(sctx)
	cutShort := err != nil && sctx.Err() != nil && ctx.Err() == nil &&
		!errors.Is(err, ErrAlreadyRunning) && !errors.Is(err, ErrStartBlocked)
	if cutShort {
		return m.handOver(r, began, wait, b.Who)
	}
	return m.started(r, rep, err)
}

// handOver leaves a start that outlives the caller's thaw limit to the
// watchdog: the record stays in phase leaving (owed, no holders), which
// the watchdog settles at once by waiting until the application serves.
func (m *Method) handOver(r *freeze.Run, began time.Time, waited time.Duration, who string) (StartReport, freeze.Outcome, error, error) {
	running, err := m.t.Running()
	if err == nil && !running {
		err = fmt.Errorf("%s is not running %s after the start began", m.name, secs(waited))
	}
	if err != nil {
		_ = r.Pending(state.PhaseLeaving, "thaw: start not launched within the caller's thaw limit; the watchdog goes on starting it")
		return StartReport{}, 0, nil, &freeze.ThawError{Cause: fmt.Errorf("%w (the caller's thaw limit is reached)", err)}
	}
	if err := r.Pending(state.PhaseLeaving, "thaw: launched, not serving yet at the caller's thaw limit; the watchdog proves readiness"); err != nil {
		return StartReport{}, 0, nil, err
	}
	n := state.StartNote{Instance: r.Key(), By: who, Launched: began, Outcome: state.StartPending, Updated: r.Now(),
		Message: fmt.Sprintf("%s launched at %s by %s, not serving yet after %s; the watchdog is proving readiness",
			m.name, began.Format(time.TimeOnly), who, secs(waited))}
	if err := r.Store().SaveStartNote(n); err != nil {
		r.Log().Warn("cannot write the start note", zap.Error(err))
	}
	r.Log().Warn("thaw limit reached: the application runs but does not serve yet; the watchdog proves readiness",
		zap.Duration("waited", waited), zap.Time("launched", began))
	return StartReport{Ready: waited}, freeze.Launched, nil, nil
}

// launched is the thaw's answer when it handed the start over.
func (m *Method) launched(rep StartReport) freeze.Result {
	return freeze.Result{Outcome: freeze.Launched,
		Message:  fmt.Sprintf("%s launched, not serving yet after %s", m.name, secs(rep.Ready)),
		Warnings: []string{fmt.Sprintf("%s was still starting when the caller's thaw limit came: the quiesce watchdog proves it serves (see the log and 'quiesce status')", m.name)}}
}

// settleLaunch records, after the watchdog (or any recovery) settled a
// record, how a start handed over by a thaw ended.
func (m *Method) settleLaunch(r *freeze.Run, res freeze.Result, err error) {
	n, ok, lerr := r.Store().LoadStartNote(r.Key())
	if lerr != nil || !ok || !n.Open() {
		return
	}
	after := r.Now().Sub(n.Launched)
	at := n.Launched.Format(time.TimeOnly)
	switch {
	case err != nil:
		n.Outcome, n.Message = state.StartNotServing, fmt.Sprintf("%s launched at %s by %s did not come up: %v", m.name, at, n.By, err)
		if r.Rec.Owed {
			n.Outcome = state.StartFailed // still owed: the watchdog retries
		}
	case res.Outcome == freeze.FoundRunning:
		n.Outcome, n.Message = state.StartServing, fmt.Sprintf("%s serves: launched at %s by %s, serving %s later (proven by the watchdog)", m.name, at, n.By, secs(after))
	case res.Outcome == freeze.Started:
		n.Outcome, n.Message = state.StartRestarted, fmt.Sprintf("%s launched at %s by %s went away; the watchdog started it again and it serves", m.name, at, n.By)
	case res.Outcome == freeze.NotStarted:
		n.Outcome, n.Message = state.StartBlocked, fmt.Sprintf("%s was not started again: %s", m.name, res.Message)
	default:
		return
	}
	n.Updated = r.Now()
	if n.Outcome == state.StartServing || n.Outcome == state.StartRestarted {
		r.Log().Info("the start a thaw handed over serves", zap.String("outcome", n.Outcome), zap.String("by", n.By), zap.Duration("after", after))
	} else {
		r.Log().Error("the start a thaw handed over did not come up", zap.String("outcome", n.Outcome), zap.String("by", n.By), zap.String("message", n.Message))
	}
	if err := r.Store().SaveStartNote(n); err != nil {
		r.Log().Warn("cannot write the start note", zap.Error(err))
	}
}
