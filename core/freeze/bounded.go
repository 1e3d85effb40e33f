package freeze

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/state"
)

// A bounded thaw: a caller that gives a thaw less time than a start may
// take (Proxmox VE: 3 minutes, 10 s on older releases; VMware: what its one
// timer leaves) gets its answer in time. The thaw launches the
// application and waits for readiness only until the caller's limit (less
// a margin); an application launched but not serving by then is handed to
// the watchdog, which proves it serves, starts it again if it went away,
// or reports that it never served. The thaw says so in a warning, and the
// start note in the state directory keeps the outcome for 'status'.

// bound is when a thaw must answer at the latest (zero: no bound), and
// who thaws.
type bound struct {
	by  time.Time
	who string
}

// thawBy is when a thaw by c must answer at the latest. rec is the record
// before c's hold is removed: for a cycle caller the end of its one timer
// counts from its freeze.
func (f *Freezer) thawBy(c Caller, rec state.Record) bound {
	b := bound{who: c.Name + "'s thaw"}
	if c.Thaw <= 0 {
		return b
	}
	began := c.Began
	if began.IsZero() {
		began = f.clock.Now()
	}
	b.by = began.Add(c.Thaw - ThawMargin(c.Thaw))
	if !c.Cycle || c.Budget <= 0 {
		return b
	}
	for _, h := range rec.Holders {
		if h.Caller != c.Name {
			continue
		}
		if end := h.Since.Add(c.Budget - cycleSafety); end.Before(b.by) {
			b.by = end
		}
	}
	return b
}

// startWithin is startStopped waiting for readiness only until by (zero:
// no bound): the start gets a context that ends then. An application
// launched but not yet serving then gives Launched, and the watchdog takes
// over; one not even launched gives a ThawError, and the watchdog goes on
// starting it.
func (f *Freezer) startWithin(ctx context.Context, rec state.Record, b bound) (StartReport, Outcome, error, error) {
	if b.by.IsZero() {
		return f.startStopped(ctx, rec)
	}
	began := f.clock.Now()
	wait := max(b.by.Sub(began), MinThawWait)
	sctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	rec.Phase, rec.Updated = state.PhaseStarting, began
	if err := f.store.Save(rec); err != nil {
		return StartReport{}, 0, nil, err
	}
	rep, err := f.target.Start(sctx)
	cutShort := err != nil && sctx.Err() != nil && ctx.Err() == nil &&
		!errors.Is(err, ErrAlreadyRunning) && !errors.Is(err, ErrStartBlocked)
	if cutShort {
		return f.handOver(rec, began, wait, b.who)
	}
	return f.started(rec, rep, err)
}

// handOver leaves a start that outlives the caller's thaw limit to the
// watchdog: the record stays in phase starting (owed, no holders), which
// the watchdog settles at once by waiting until the application serves.
func (f *Freezer) handOver(rec state.Record, began time.Time, waited time.Duration, who string) (StartReport, Outcome, error, error) {
	name := f.target.Name()
	running, err := f.target.Running()
	if err == nil && !running {
		err = fmt.Errorf("%s is not running %s after the start began", name, secs(waited))
	}
	rec.Phase, rec.Updated = state.PhaseStarting, f.clock.Now()
	if err != nil {
		rec.Note = "thaw: start not launched within the caller's thaw limit; the watchdog goes on starting it"
		_ = f.store.Save(rec)
		f.armWatchdog()
		return StartReport{}, 0, nil, &ThawError{Cause: fmt.Errorf("%w (the caller's thaw limit is reached)", err)}
	}
	rec.Note = "thaw: launched, not serving yet at the caller's thaw limit; the watchdog proves readiness"
	if err := f.store.Save(rec); err != nil {
		return StartReport{}, 0, nil, err
	}
	n := state.StartNote{Target: name, By: who, Launched: began, Outcome: state.StartPending, Updated: f.clock.Now(),
		Message: fmt.Sprintf("%s launched at %s by %s, not serving yet after %s; the watchdog is proving readiness",
			name, began.Format(time.TimeOnly), who, secs(waited))}
	if err := f.store.SaveStartNote(n); err != nil {
		f.log.Warn("cannot write the start note", zap.Error(err))
	}
	f.log.Warn("thaw limit reached: the application runs but does not serve yet; the watchdog proves readiness",
		zap.Duration("waited", waited), zap.Time("launched", began))
	f.armWatchdog()
	return StartReport{Ready: waited}, Launched, nil, nil
}

// launched is the thaw's answer when it handed the start over.
func (f *Freezer) launched(rep StartReport) Result {
	name := f.target.Name()
	return Result{Outcome: Launched,
		Message:  fmt.Sprintf("%s launched, not serving yet after %s", name, secs(rep.Ready)),
		Warnings: []string{fmt.Sprintf("%s was still starting when the caller's thaw limit came: the quiesce watchdog proves it serves (see the log and 'quiesce status')", name)}}
}

// settleLaunch records, after the watchdog (or any recovery) settled an
// interrupted record, how a start handed over by a thaw ended.
func (f *Freezer) settleLaunch(res Result, err error) {
	name := f.target.Name()
	n, ok, lerr := f.store.LoadStartNote(name)
	if lerr != nil || !ok || !n.Open() {
		return
	}
	after := f.clock.Now().Sub(n.Launched)
	switch {
	case err != nil:
		n.Outcome, n.Message = state.StartNotServing, fmt.Sprintf("%s launched at %s by %s did not come up: %v", name, n.Launched.Format(time.TimeOnly), n.By, err)
		if rec, lerr := f.store.Load(name); lerr == nil && rec.StartOwed() {
			n.Outcome = state.StartFailed // still owed: the watchdog retries
		}
	case res.Outcome == FoundRunning:
		n.Outcome, n.Message = state.StartServing, fmt.Sprintf("%s serves: launched at %s by %s, serving %s later (proven by the watchdog)", name, n.Launched.Format(time.TimeOnly), n.By, secs(after))
	case res.Outcome == Started:
		n.Outcome, n.Message = state.StartRestarted, fmt.Sprintf("%s launched at %s by %s went away; the watchdog started it again and it serves", name, n.Launched.Format(time.TimeOnly), n.By)
	case res.Outcome == NotStarted:
		n.Outcome, n.Message = state.StartBlocked, fmt.Sprintf("%s was not started again: %s", name, res.Message)
	default:
		return
	}
	n.Updated = f.clock.Now()
	if n.Outcome == state.StartServing || n.Outcome == state.StartRestarted {
		f.log.Info("the start a thaw handed over serves", zap.String("outcome", n.Outcome), zap.String("by", n.By), zap.Duration("after", after))
	} else {
		f.log.Error("the start a thaw handed over did not come up", zap.String("outcome", n.Outcome), zap.String("by", n.By), zap.String("message", n.Message))
	}
	if err := f.store.SaveStartNote(n); err != nil {
		f.log.Warn("cannot write the start note", zap.Error(err))
	}
}

// StartNote returns the last start a thaw handed to the watchdog, if any.
func (f *Freezer) StartNote() (state.StartNote, bool, error) {
	return f.store.LoadStartNote(f.target.Name())
}
