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

// settleFirst runs the recovery checks before an operation: an
// interrupted or expired freeze is settled before anything new happens.
// It returns the settling's result, nil when nothing needed settling.
func (s *Session) settleFirst(ctx context.Context, r *Run) *Result {
	if r.Rec.Empty() || (!r.Rec.Interrupted() && !s.expired(*r.Rec)) {
		return nil
	}
	who := r.Who
	res, err := s.settle(ctx, r, false)
	s.observe(ctx, OpRecover, OpRecover, res, err)
	if err != nil {
		s.log.Error("recovery before the operation failed", zap.String("by", who), zap.Error(err))
		if reread, lerr := s.store.Load(s.key); lerr == nil {
			*r.Rec = reread
		}
		return nil
	}
	s.log.Warn("settled a previous freeze first", zap.String("by", who), zap.String("outcome", res.Outcome.String()))
	return &res
}

// settle acts on the record when it is interrupted or expired (every
// freeze is, with boot), and leaves the record as it stands afterwards.
func (s *Session) settle(ctx context.Context, r *Run, boot bool) (Result, error) {
	rec := r.Rec
	expired := boot || s.expired(*rec)
	switch {
	case rec.Empty():
		s.tidy(ctx, r)
		return Result{Outcome: NothingToThaw, Message: "nothing to recover"}, nil
	case !rec.Interrupted() && !expired:
		return Result{Outcome: StillHeld, Method: rec.Method, Holders: holderNames(rec.Holders),
			Message: "frozen " + describeHolders(holderNames(rec.Holders)) + " until " + rec.Deadline.Format(time.RFC3339)}, nil
	}
	m := s.method(rec.Method)
	why := Interrupted
	switch {
	case boot:
		why = Boot
	case !rec.Interrupted():
		why = Expired
	}
	if why != Interrupted && rec.Frozen() {
		s.log.Error("freeze expired: no thaw came before the deadline", zap.String("by", r.Who), zap.String("method", m.Name()),
			zap.Strings("never_thawed", holderNames(rec.Holders)), zap.Time("deadline", rec.Deadline))
	}
	expiring := false
	if why == Interrupted {
		s.log.Warn("finishing an interrupted operation", zap.String("by", r.Who), zap.String("phase", rec.Phase),
			zap.String("method", m.Name()), zap.Strings("holders", holderNames(rec.Holders)))
	} else if (rec.Phase == state.PhaseHeld || rec.Phase == "") && rec.Frozen() {
		// their freeze had succeeded: their thaw is late, and is told so
		rec.Expired, rec.ExpiredAt = append(rec.Expired, rec.Holders...), s.clock.Now()
		expiring = true
	}
	rec.Holders = nil
	res, err := m.Settle(ctx, r, why)
	res.Method = m.Name()
	if err != nil {
		return res, err
	}
	if expiring {
		r.Rec.ExpiredEnd = res.Message
		r.Rec.ExpiredChanged = res.Outcome != NotStarted && res.Outcome != NothingToThaw
	}
	s.log.Info("recovered", zap.String("by", r.Who), zap.String("outcome", res.Outcome.String()), zap.Duration("downtime", res.Downtime))
	return res, r.Clear()
}

// Recover settles what an interrupted run or an expired freeze left: an
// Enter cut short is finished and undone, a Leave cut short or failed is
// retried, a freeze past its deadline is ended. With boot every freeze
// counts as expired: the snapshot it was for is gone with the reboot.
func (s *Session) Recover(ctx context.Context, boot bool) (Result, error) {
	who := "recover"
	if boot {
		who = "recover at boot"
	}
	res, err := s.locked(ctx, who, func(r *Run) (Result, error) { return s.settle(ctx, r, boot) })
	s.observe(ctx, OpRecover, OpRecover, res, err)
	return res, err
}

// lateThaw answers a thaw from a caller whose freeze expired: the
// watchdog ended it before this thaw, so the caller's snapshot, if taken
// after that, is not what the freeze promised. It fails.
func (s *Session) lateThaw(r *Run, c Caller) (Result, bool, error) {
	var kept []state.Holder
	late := false
	for _, h := range r.Rec.Expired {
		if h.Caller == c.Name {
			late = true
			continue
		}
		kept = append(kept, h)
	}
	if !late {
		return Result{}, false, nil
	}
	expiredAt, end, changed, m := r.Rec.ExpiredAt, r.Rec.ExpiredEnd, r.Rec.ExpiredChanged, s.method(r.Rec.Method)
	r.Rec.Expired = kept // only this caller's late thaw is answered: every other holder still gets its own
	var err error
	if len(kept) == 0 {
		err = r.Clear()
	} else {
		err = r.Save()
	}
	if err != nil {
		s.log.Error("cannot record the late thaw", zap.Error(err))
	}
	if !changed && end != "" {
		// ending it changed nothing (the application was stopped by hand, or
		// was not running): the snapshot is what this freeze left
		return Result{Outcome: NothingToThaw, Message: "nothing frozen any more",
			Warnings: []string{fmt.Sprintf("late thaw: the freeze by %s had expired at %s; ending it changed nothing (%s)", c.Name, expiredAt.Format(time.RFC3339), end)}}, true, nil
	}
	ended, effect := m.Late()
	if end != "" {
		ended += " (" + end + ")"
	}
	return Result{}, true, &LateThawError{Caller: c.Name, ExpiredAt: expiredAt, Ended: ended, Effect: effect}
}

// Disown ends quiesce's ownership of the instance's state: after an
// administrator stops or starts it by hand, no thaw or watchdog undoes
// that. The freeze's holders stay (their thaws succeed and change
// nothing); only what the freeze owed is forgotten.
func (s *Session) Disown(ctx context.Context, why string) error {
	_, err := s.locked(ctx, "disown", func(r *Run) (Result, error) {
		if !r.Rec.Owed {
			return Result{}, nil
		}
		r.Rec.Owed, r.Rec.Phase = false, ""
		r.Rec.Disowned = strings.TrimSpace(why) + " at " + s.clock.Now().Format(time.TimeOnly)
		s.log.Warn("freeze ownership ended by hand", zap.String("why", why), zap.Strings("holders", holderNames(r.Rec.Holders)))
		if !r.Rec.Frozen() {
			return Result{}, r.Clear()
		}
		return Result{}, r.Save()
	})
	return err
}

// Record reads the instance's record without taking its lock (status
// changes nothing); a version-1 record of the instance is shown as it
// will be adopted.
func (s *Session) Record() (state.Record, error) {
	rec, err := s.store.Load(s.key)
	if err != nil || !rec.Empty() || len(rec.Expired) > 0 {
		return rec, err
	}
	for _, name := range s.inst.Legacy {
		if l, ok, lerr := s.store.LoadLegacy(name); lerr == nil && ok && s.adopt != nil && s.adopt(l) {
			return l.Upgrade(s.key, s.inst.Name), nil
		}
	}
	return rec, nil
}

// load reads the instance's record, adopting a version-1 record of the
// instance if there is one: a freeze taken before the upgrade is thawed
// by this release. The version-1 lock is held while the record moves, so
// that a watchdog of the old release never acts on it meanwhile.
func (s *Session) load(ctx context.Context) (state.Record, error) {
	rec, err := s.store.Load(s.key)
	if err != nil || !rec.Empty() || len(rec.Expired) > 0 || s.adopt == nil {
		return rec, err
	}
	for _, name := range s.inst.Legacy {
		adopted, err := s.adoptLegacy(ctx, name)
		if err != nil {
			return rec, err
		}
		if adopted != nil {
			return *adopted, nil
		}
	}
	return rec, nil
}

func (s *Session) adoptLegacy(ctx context.Context, name string) (*state.Record, error) {
	if _, ok, err := s.store.LoadLegacy(name); err != nil || !ok {
		var ce *state.CorruptError
		if errors.As(err, &ce) {
			return nil, nil // not a record of version 1's: none to adopt
		}
		return nil, err
	}
	lock, err := s.store.Lock(ctx, name, "upgrade to "+s.key, s.policy.LockWait)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	l, ok, err := s.store.LoadLegacy(name)
	if err != nil || !ok || !s.adopt(l) {
		return nil, err
	}
	rec := l.Upgrade(s.key, s.inst.Name)
	if err := s.store.Save(rec); err != nil {
		return nil, err
	}
	if err := s.store.Clear(name); err != nil {
		return nil, err
	}
	s.log.Warn("adopted a freeze recorded by an earlier release", zap.String("record", name), zap.String("method", rec.Method),
		zap.String("phase", rec.Phase), zap.Strings("holders", holderNames(rec.Holders)))
	return &rec, nil
}
