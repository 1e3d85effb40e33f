package online

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/state"
)

// Methods: how a Domino freeze is done.
const (
	MethodAuto   = config.MethodAuto   // online when Domino Backup is set up and the server runs, else stop
	MethodOnline = config.MethodOnline // online only; a failed online freeze fails
	MethodStop   = config.MethodStop   // stop and start, as before
)

// Operator freezes Domino by the configured method: online through Domino
// Backup, or by stopping it (the stop engine), falling back from a failed
// online attempt to a stop when the method is auto and the caller's budget
// still allows a stop.
type Operator struct {
	Method string
	Online *Engine
	Stop   *freeze.Freezer
	Store  *state.Store
	Server *domino.Server
	Log    *zap.Logger
	Clock  clock.Clock
}

var _ freeze.Operator = (*Operator)(nil)

// online decides whether this freeze tries the online path.
func (o *Operator) online() (bool, string) {
	switch o.Method {
	case MethodStop:
		return false, "method = stop"
	}
	if rec, err := o.Store.Load(domino.TargetName); err == nil && (rec.Frozen() || rec.StartOwed()) {
		return false, "a stop freeze is in place: joining it"
	}
	if frozen, _ := o.Online.Frozen(); frozen {
		return true, "an online freeze is in place: joining it"
	}
	if o.Method == MethodAuto && !o.Online.Configured() {
		return false, "Domino Backup is not set up (no dominobackup.nsf)"
	}
	return true, ""
}

// Freeze implements freeze.Operator.
func (o *Operator) Freeze(ctx context.Context, c freeze.Caller) (freeze.Result, error) {
	var fellBack bool
	res, online, err := o.freeze(ctx, c, &fellBack)
	if online { // the stop engine logs its own operations
		o.logResult("freeze", c, res, err)
	}
	if online && !fellBack { // and reports them, a fallback too
		freeze.Notify(ctx, freeze.EventOf(freeze.OpFreeze, domino.TargetName, c.Name, res, err, o.Clock.Now()))
	}
	return res, err
}

// Thaw implements freeze.Operator: an online freeze is released, anything
// else is the stop engine's.
func (o *Operator) Thaw(ctx context.Context, c freeze.Caller) (freeze.Result, error) {
	res, online, err := o.thaw(ctx, c)
	if online {
		o.logResult("thaw", c, res, err)
		freeze.Notify(ctx, freeze.EventOf(freeze.OpThaw, domino.TargetName, c.Name, res, err, o.Clock.Now()))
	}
	return res, err
}

// logResult writes the one line every operation gets, with its message.
func (o *Operator) logResult(op string, c freeze.Caller, res freeze.Result, err error) {
	fields := []zap.Field{zap.String("target", domino.TargetName), zap.String("op", op), zap.String("caller", c.Name), zap.String("job", c.Job),
		zap.String("method", o.Method), zap.Duration("took", res.Took), zap.Duration("window", res.Window), zap.Strings("holders", res.Holders)}
	if err != nil {
		o.Log.Error("domino operation failed", append(fields, zap.Error(err))...)
		return
	}
	o.Log.Info("domino operation done", append(fields, zap.String("outcome", res.Outcome.String()), zap.String("message", res.Message),
		zap.Strings("warnings", res.Warnings))...)
}

func (o *Operator) freeze(ctx context.Context, c freeze.Caller, fellBack *bool) (freeze.Result, bool, error) {
	use, why := o.online()
	if !use {
		o.Log.Debug("freezing by stop", zap.String("method", o.Method), zap.String("why", why))
		res, err := o.Stop.Freeze(ctx, c)
		return res, false, err
	}
	began := o.Clock.Now()
	res, err := o.Online.Freeze(ctx, c)
	if err == nil {
		return res, true, nil
	}
	if errors.Is(err, ErrNotRunning) { // nothing to freeze online: the stop engine records "not running"
		res, err := o.Stop.Freeze(ctx, c)
		return res, false, err
	}
	var f *Failure
	if !errors.As(err, &f) || !f.Ended || o.Method != MethodAuto {
		return freeze.Result{}, true, &freeze.FreezeError{Cause: err}
	}
	rest := c
	if c.Budget > 0 {
		rest.Budget = c.Budget - o.Clock.Now().Sub(began)
		if p := o.Stop.Plan(rest); rest.Budget <= 0 || p.TooTight {
			return freeze.Result{}, true, &freeze.FreezeError{Cause: fmt.Errorf("%w; no fallback to stop/start: %s of the caller's budget left", err, rest.Budget.Round(time.Second))}
		}
	}
	o.Log.Warn("online freeze failed before the snapshot; falling back to stop/start", zap.String("caller", c.Name), zap.Error(err))
	if obs := freeze.ObserverOf(ctx); obs != nil {
		ctx = freeze.WithObserver(ctx, markFallback{obs})
	}
	*fellBack = true
	res, serr := o.Stop.Freeze(ctx, rest)
	if serr != nil {
		return res, true, serr
	}
	res.Fallback = true
	res.Warnings = append([]string{fmt.Sprintf("%v; fell back to stop/start", err)}, res.Warnings...)
	return res, true, nil
}

// markFallback marks the stop engine's freeze as a fallback from online mode.
type markFallback struct{ next freeze.Observer }

func (f markFallback) Observe(ev freeze.Event) {
	if ev.Op == freeze.OpFreeze {
		ev.Fallback = true
	}
	f.next.Observe(ev)
}

func (o *Operator) thaw(ctx context.Context, c freeze.Caller) (freeze.Result, bool, error) {
	if o.Method != MethodStop {
		res, handled, err := o.Online.Thaw(ctx, c)
		if handled || err != nil {
			if err != nil {
				err = fmt.Errorf("%w: %w", freeze.ErrThawFailed, err)
			}
			return res, true, err
		}
	}
	res, err := o.Stop.Thaw(ctx, c)
	return res, false, err
}

// Plan implements freeze.Operator: the worst case is the stop fallback.
func (o *Operator) Plan(c freeze.Caller) freeze.Plan { return o.Stop.Plan(c) }
