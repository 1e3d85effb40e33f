package freeze

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/state"
)

// watchPoll bounds how long the watchdog sleeps before it looks at the
// record again (a thaw, a nested freeze, an administrator's stop can
// change it).
const watchPoll = 2 * time.Second

// guardLock names the lock the instance's one watchdog holds.
func (s *Session) guardLock() string { return s.key + ".watchdog" }

// Guarded reports whether a watchdog guards the instance now.
func (s *Session) Guarded() (bool, error) { return s.store.Held(s.guardLock()) }

// armWatchdog starts the watchdog, once per process, unless one guards
// the instance already. It is called with the instance's lock held and
// before the record says that anything needs guarding: the watchdog
// looks at the record only with that lock held, so it sees the record as
// this process leaves it, finished or killed at any step, and a kill
// before the watchdog is started leaves nothing to guard. A watchdog that
// holds its guard lock gives it up only under the instance's lock, after
// a look at the record: it will see what this process leaves.
func (s *Session) armWatchdog() {
	if s.arm == nil || s.armed {
		return
	}
	if held, err := s.Guarded(); err == nil && held {
		return
	}
	if err := s.arm(); err != nil {
		s.log.Error("cannot start the watchdog; a freeze never thawed will only end at the next quiesce run or 'quiesce recover'", zap.Error(err))
		return
	}
	s.armed = true
}

// Rearm makes sure a watchdog guards a freeze in place: one that was
// killed (or never started) is started again. It takes the instance's
// lock only when a freeze is in place and no watchdog guards it. It
// reports whether it started one.
func (s *Session) Rearm(ctx context.Context) (bool, error) {
	rec, err := s.store.Load(s.key)
	if err != nil || rec.Empty() {
		return false, err
	}
	if held, err := s.Guarded(); err != nil || held {
		return false, err
	}
	lock, err := s.store.Lock(ctx, s.key, "re-arm the watchdog", s.policy.LockWait)
	if err != nil {
		return false, err
	}
	defer lock.Unlock()
	if rec, err = s.store.Load(s.key); err != nil || rec.Empty() {
		return false, err
	}
	s.log.Warn("no watchdog guards the freeze in place: starting one", zap.Strings("holders", holderNames(rec.Holders)), zap.Time("deadline", rec.Deadline))
	s.armWatchdog()
	return s.armed, nil
}

// Watch is the watchdog: it runs until no freeze needs guarding,
// settling interrupted operations at once and expired freezes at their
// deadline. It works from the record on disk, so it does its job after
// the quiesce that froze has exited or died. One watchdog guards an
// instance at a time (its guard lock); a second one started meanwhile
// returns at once.
//
// Every look at the record is taken with the instance's lock held, and
// the guard lock is given up only with that lock held and the record
// found settled. A freeze arms its watchdog holding the instance's lock,
// before it records anything: so whenever the record needs guarding,
// either this watchdog looks again after the freeze let go of the lock,
// or it had already given up its guard lock and the new one takes it.
func (s *Session) Watch(ctx context.Context) error {
	guard, err := s.store.Lock(ctx, s.guardLock(), "watchdog", 0)
	if errors.Is(err, state.ErrLocked) {
		s.log.Info("a watchdog is running already")
		return nil
	}
	if err != nil {
		return err
	}
	defer guard.Unlock() // once given up, Unlock does nothing
	s.log.Info("watchdog started")
	backoff := time.Second
	for {
		wait, done, err := s.watchStep(ctx, guard)
		if done {
			return nil
		}
		if err != nil {
			var ce *state.CorruptError
			if errors.As(err, &ce) {
				return err
			}
			s.log.Error("watchdog could not recover; retrying", zap.Error(err), zap.Duration("in", backoff))
			wait, backoff = backoff, min(2*backoff, 30*time.Second)
		} else {
			backoff = time.Second
		}
		if !s.sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

// watchStep looks at the record with the instance's lock held and settles
// it when it is interrupted or past its deadline. It returns how long to
// wait before the next look, or done once nothing needs guarding.
func (s *Session) watchStep(ctx context.Context, guard *state.Lock) (wait time.Duration, done bool, err error) {
	lock, err := s.store.Lock(ctx, s.key, "watchdog", s.policy.LockWait)
	if errors.Is(err, state.ErrLocked) {
		return watchPoll, false, nil // an operation is under way; look again after it
	}
	if err != nil {
		return 0, false, err
	}
	defer lock.Unlock()
	rec, err := s.load(ctx)
	if err != nil {
		return 0, false, err
	}
	if !rec.Held() && !rec.Interrupted() {
		s.tidy(ctx, &Run{Rec: &rec, s: s, Who: "watchdog"})
		guard.Unlock() // still under the instance's lock: see Watch
		s.log.Info("watchdog done: nothing left to guard")
		return 0, true, nil
	}
	if left := s.left(rec); !rec.Interrupted() && left > 0 {
		return min(left, watchPoll), false, nil
	}
	r := &Run{Rec: &rec, s: s, Who: "watchdog"}
	res, err := s.settle(ctx, r, false)
	if err != nil || res.Outcome != StillHeld {
		s.observe(ctx, OpWatchdog, OpWatchdog, res, err)
	}
	if err == nil && res.Outcome == StillHeld {
		return watchPoll, false, nil // a record without a deadline: keep looking
	}
	return 0, false, err
}

// tidy lets the methods tidy up what a freeze that is over left beside
// the record (see Tidier).
func (s *Session) tidy(ctx context.Context, r *Run) {
	for _, m := range s.methods {
		if t, ok := m.(Tidier); ok {
			for _, w := range t.Tidy(ctx, r) {
				s.log.Warn("tidied up after a freeze", zap.String("by", r.Who), zap.String("method", m.Name()), zap.String("warning", w))
			}
		}
	}
}

// sleep waits d on the session's clock; false when ctx ended first.
func (s *Session) sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-s.clock.After(d):
		return true
	}
}
