package freeze

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/state"
)

// Recover settles what an interrupted run or an expired freeze left: a
// stop cut short is finished, a start cut short or failed is retried, a
// freeze past its deadline ends and the application is started if a
// freeze stopped it. With boot set every freeze counts as expired: the
// snapshot it was for is gone with the reboot.
func (f *Freezer) Recover(ctx context.Context, boot bool) (Result, error) {
	who := "recover"
	if boot {
		who = "recover at boot"
	}
	res, err := f.locked(ctx, who, func(rec state.Record) (Result, error) {
		res, _, err := f.settle(ctx, rec, boot, who)
		return res, err
	})
	f.observe(ctx, OpRecover, OpRecover, res, err)
	return res, err
}

// settle acts on rec when it is interrupted or expired, and returns the
// record as it stands afterwards.
func (f *Freezer) settle(ctx context.Context, rec state.Record, boot bool, who string) (Result, state.Record, error) {
	now := f.clock.Now()
	expired := boot || (!rec.Deadline.IsZero() && !now.Before(rec.Deadline))
	switch {
	case rec.Empty():
		return Result{Outcome: NothingToThaw, Message: "nothing to recover"}, rec, nil
	case rec.Interrupted():
		return f.finish(ctx, rec, who)
	case expired:
		return f.expire(ctx, rec, who)
	}
	return Result{Outcome: StillHeld, Message: "frozen " + describe(rec) + " until " + rec.Deadline.Format(time.RFC3339),
		Holders: holderNames(rec)}, rec, nil
}

// finish completes an interrupted stop or start: the caller that began it
// saw a failure and will not thaw, so the application is brought back.
func (f *Freezer) finish(ctx context.Context, rec state.Record, who string) (Result, state.Record, error) {
	forced := false
	f.log.Warn("finishing an interrupted operation", zap.String("by", who), zap.String("phase", rec.Phase),
		zap.Strings("holders", holderNames(rec)))
	if rec.Phase == state.PhaseStopping {
		rep, err := f.target.Stop(ctx, f.target.Timeouts().Shutdown)
		if err != nil {
			return Result{}, rec, fmt.Errorf("finishing the interrupted stop: %w", err)
		}
		f.log.Info("interrupted stop finished", zap.String("outcome", rep.Outcome), zap.Strings("killed", rep.Killed))
		forced = rep.Forced
	}
	rec.Holders = nil
	res, next, err := f.bringBack(ctx, rec, who)
	res.Forced = forced
	f.settleLaunch(res, err)
	return res, next, err
}

// expire ends a freeze whose deadline passed.
func (f *Freezer) expire(ctx context.Context, rec state.Record, who string) (Result, state.Record, error) {
	if rec.Frozen() {
		f.log.Error("freeze expired: no thaw came before the deadline", zap.String("by", who),
			zap.Strings("never_thawed", holderNames(rec)), zap.Time("deadline", rec.Deadline))
	}
	rec.Expired, rec.ExpiredAt = append(rec.Expired, rec.Holders...), f.clock.Now()
	rec.Holders = nil
	res, next, err := f.bringBack(ctx, rec, who)
	f.settleLaunch(res, err)
	return res, next, err
}

// bringBack starts the application if a freeze stopped it, and leaves only
// the memory of expired holders in the record.
func (f *Freezer) bringBack(ctx context.Context, rec state.Record, who string) (Result, state.Record, error) {
	res := Result{Outcome: NotStarted, Message: f.target.Name() + " was not stopped by a freeze; nothing to start"}
	if rec.StartOwed() {
		rep, out, blocked, err := f.startStopped(ctx, rec)
		if err != nil {
			return Result{}, rec, err
		}
		switch out {
		case FoundRunning:
			res = Result{Outcome: FoundRunning, Message: f.target.Name() + " is running already; nothing to start"}
			if werr := f.waitServing(ctx); werr != nil {
				f.log.Error("the start under way does not become ready; an administrator must look", zap.String("by", who), zap.Error(werr))
				_ = f.store.Clear(f.target.Name()) // starting again is impossible while it runs
				return Result{}, rec, &ThawError{Cause: fmt.Errorf("%s runs but does not serve: %w", f.target.Name(), werr)}
			}
		case NotStarted:
			f.log.Error("not starting: starts are blocked", zap.String("by", who), zap.Error(blocked))
			res = Result{Outcome: NotStarted, Message: "not started: " + blocked.Error(), Warnings: []string{blocked.Error()}}
		default:
			res = Result{Outcome: Started, Downtime: f.clock.Now().Sub(rec.StoppedAt),
				Message: fmt.Sprintf("%s started by %s and serving in %s", f.target.Name(), who, secs(rep.Ready))}
		}
	}
	f.log.Info("recovered", zap.String("by", who), zap.String("outcome", res.Outcome.String()), zap.Duration("downtime", res.Downtime))
	next := state.Record{Version: state.Version, Target: rec.Target, Expired: rec.Expired, ExpiredAt: rec.ExpiredAt, Updated: f.clock.Now()}
	if len(next.Expired) == 0 {
		return res, next, f.store.Clear(f.target.Name())
	}
	return res, next, f.store.Save(next)
}

// waitServing waits, when recovery finds the application running (a
// start an interrupted run launched, or one nobody recorded), until it
// serves.
func (f *Freezer) waitServing(ctx context.Context) error {
	w, ok := f.target.(Waiter)
	if !ok {
		return nil
	}
	return w.WaitReady(ctx)
}

// lateThaw answers a thaw from a caller whose freeze already expired.
func (f *Freezer) lateThaw(rec state.Record, c Caller) (Result, bool, error) {
	var kept []state.Holder
	late := false
	for _, h := range rec.Expired {
		if h.Caller == c.Name {
			late = true
			continue
		}
		kept = append(kept, h)
	}
	if !late {
		return Result{}, false, nil
	}
	rec.Expired = kept
	var err error
	if len(kept) == 0 {
		err = f.store.Clear(f.target.Name())
	} else {
		err = f.store.Save(rec)
	}
	w := fmt.Sprintf("late thaw: the freeze by %s had expired at %s and %s was already brought back", c.Name,
		rec.ExpiredAt.Format(time.RFC3339), f.target.Name())
	return Result{Outcome: NothingToThaw, Message: "nothing frozen any more", Warnings: []string{w}}, true, err
}

// watchPoll bounds how long the watchdog sleeps before it looks at the
// state again (a thaw, a nested freeze, an admin's stop can change it).
const watchPoll = 2 * time.Second

// Watch is the watchdog: it runs until no freeze needs guarding, settling
// interrupted operations at once and expired freezes at their deadline.
// It works from the state on disk, so it does its job after the quiesce
// that froze has exited or died. One watchdog guards a target at a time
// (its guard lock); a second one started meanwhile returns at once.
//
// Every look at the record is taken with the target's lock held, and the
// guard lock is given up only with the target's lock held and the record
// found settled. A freeze arms its watchdog holding the target's lock,
// before it records anything: so whenever the record needs guarding,
// either this watchdog looks again after the freeze let go of the lock,
// or it had already given up its guard lock and the new one takes it.
func (f *Freezer) Watch(ctx context.Context) error {
	guard, err := f.store.Lock(ctx, f.guardLock(), "watchdog", 0)
	if errors.Is(err, state.ErrLocked) {
		f.log.Info("a watchdog is running already")
		return nil
	}
	if err != nil {
		return err
	}
	defer guard.Unlock() // once given up, Unlock does nothing
	f.log.Info("watchdog started")
	backoff := time.Second
	for {
		wait, done, err := f.watchStep(ctx, guard)
		if done {
			return nil
		}
		if err != nil {
			var ce *state.CorruptError
			if errors.As(err, &ce) {
				return err
			}
			f.log.Error("watchdog could not recover; retrying", zap.Error(err), zap.Duration("in", backoff))
			wait, backoff = backoff, min(2*backoff, 30*time.Second)
		} else {
			backoff = time.Second
		}
		if !f.sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

// watchStep looks at the record with the target's lock held and settles
// it when it is interrupted or past its deadline. It returns how long to
// wait before the next look, or done once nothing needs guarding.
func (f *Freezer) watchStep(ctx context.Context, guard *state.Lock) (wait time.Duration, done bool, err error) {
	lock, err := f.store.Lock(ctx, f.target.Name(), "watchdog", f.policy.LockWait)
	if errors.Is(err, state.ErrLocked) {
		return watchPoll, false, nil // an operation is under way; look again after it
	}
	if err != nil {
		return 0, false, err
	}
	defer lock.Unlock()
	rec, err := f.store.Load(f.target.Name())
	if err != nil {
		return 0, false, err
	}
	if !rec.Frozen() && !rec.StartOwed() && !rec.Interrupted() {
		guard.Unlock() // still under the target's lock: see Watch
		f.log.Info("watchdog done: nothing left to guard")
		return 0, true, nil
	}
	if now := f.clock.Now(); !rec.Interrupted() && now.Before(rec.Deadline) {
		return min(rec.Deadline.Sub(now), watchPoll), false, nil
	}
	res, _, err := f.settle(ctx, rec, false, "watchdog")
	if err != nil || res.Outcome != StillHeld {
		f.observe(ctx, OpWatchdog, OpWatchdog, res, err)
	}
	if err == nil && res.Outcome == StillHeld {
		return watchPoll, false, nil // a record without a deadline: keep looking
	}
	return 0, false, err
}

// sleep waits d on the Freezer's clock; false when ctx ended first.
func (f *Freezer) sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-f.clock.After(d):
		return true
	}
}

// Disown ends quiesce's ownership of the application's state: after an
// administrator stops or starts it by hand, no thaw or watchdog starts it.
func (f *Freezer) Disown(ctx context.Context, why string) error {
	_, err := f.locked(ctx, "disown", func(rec state.Record) (Result, error) {
		if !rec.StartOwed() {
			return Result{}, nil
		}
		rec.StoppedByFreeze, rec.Phase, rec.Updated = false, "", f.clock.Now()
		rec.Note = strings.TrimSpace(why)
		f.log.Warn("freeze ownership ended by hand", zap.String("why", why), zap.Strings("holders", holderNames(rec)))
		if !rec.Frozen() {
			return Result{}, f.store.Clear(f.target.Name())
		}
		return Result{}, f.store.Save(rec)
	})
	return err
}
