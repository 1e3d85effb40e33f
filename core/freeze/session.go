package freeze

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/state"
)

// Session freezes and thaws one application instance, by the first of
// its methods that can.
type Session struct {
	inst     Instance
	key      string
	methods  []Method
	fallback bool
	store    *state.Store
	policy   Policy
	log      *zap.Logger
	clock    clock.Clock
	arm      func() error
	armed    bool
	adopt    func(state.Legacy) bool
}

// Options are a session's methods and what it needs beyond the basics.
type Options struct {
	// Methods, in the order a freeze tries them. A method that finds the
	// application not running (ErrNotRunning) gives way to the next one;
	// with Fallback, so does one that failed without changing anything.
	Methods  []Method
	Fallback bool
	// Arm starts a watchdog that outlives this process (a detached
	// process running Watch); nil: none.
	Arm func() error
	// Adopt reports whether a version-1 record under one of the
	// instance's legacy names is this instance's; nil: never.
	Adopt func(state.Legacy) bool
}

// New returns the session of inst.
func New(inst Instance, store *state.Store, p Policy, log *zap.Logger, c clock.Clock, o Options) *Session {
	if p.DefaultWindow == 0 {
		p.DefaultWindow = time.Hour
	}
	return &Session{inst: inst, key: inst.Key(), methods: o.Methods, fallback: o.Fallback, store: store, policy: p,
		log: log.With(zap.String("instance", inst.Name)), clock: c, arm: o.Arm, adopt: o.Adopt}
}

// Instance is the instance this session guards.
func (s *Session) Instance() Instance { return s.inst }

// Key names the instance in the state directory.
func (s *Session) Key() string { return s.key }

// Methods are the session's methods, in the order a freeze tries them.
func (s *Session) Methods() []Method { return s.methods }

// method is the method named name; the last (the stop) when none is.
func (s *Session) method(name string) Method {
	for _, m := range s.methods {
		if m.Name() == name {
			return m
		}
	}
	return s.methods[len(s.methods)-1]
}

// Plan is how a freeze by c fits c's limits: by the method a freeze
// tries first, or with Fallback by the last, which it may fall back to
// (the worst case). A method after the first without Fallback only
// records that the instance is not running.
func (s *Session) Plan(c Caller) Plan {
	if s.fallback {
		return s.methods[len(s.methods)-1].Plan(c)
	}
	return s.methods[0].Plan(c)
}

// locked runs fn with the instance's lock held and its record loaded.
func (s *Session) locked(ctx context.Context, op string, fn func(r *Run) (Result, error)) (Result, error) {
	began := s.clock.Now()
	lock, err := s.store.Lock(ctx, s.key, op, s.policy.LockWait)
	if err != nil {
		return Result{}, err
	}
	defer lock.Unlock()
	rec, err := s.load(ctx)
	if err != nil {
		return Result{}, err
	}
	if !rec.Empty() {
		// Whatever this operation does to a freeze in place, a kill at any
		// step of it must find a watchdog: the one that guarded the
		// record may have been killed, or never started.
		s.armWatchdog()
	}
	res, err := fn(&Run{Rec: &rec, s: s, Who: op})
	res.Took = s.clock.Now().Sub(began)
	return res, err
}

// Freeze makes the instance consistent for caller c, or joins the freeze
// in place.
func (s *Session) Freeze(ctx context.Context, c Caller) (Result, error) {
	res, err := s.locked(ctx, "freeze by "+c.Name, func(r *Run) (Result, error) {
		s.settleFirst(ctx, r)
		if r.Rec.Held() {
			return s.join(ctx, r, c)
		}
		return s.enter(ctx, r, c)
	})
	s.done(ctx, OpFreeze, c, res, err)
	return res, err
}

// deadline is when a freeze by c with method m ends if no thaw comes: the
// policy's window, capped by the method.
func (s *Session) deadline(r *Run, m Method, c Caller, now time.Time) time.Time {
	d := now.Add(s.policy.Window(c))
	if cap := m.Deadline(r, c, now); !cap.IsZero() && cap.Before(d) {
		d = cap
	}
	return d
}

// setDeadline records d on the wall clock and on the boot clock.
func (s *Session) setDeadline(rec *state.Record, d time.Time) {
	rec.Deadline, rec.BootAt = d, nil
	if boot, since, ok := s.clock.SinceBoot(); ok {
		rec.BootAt = &state.BootDeadline{Boot: boot, At: since + d.Sub(s.clock.Now())}
	}
}

// left is how long the freeze in rec has until its deadline, on the boot
// clock within the boot that set it (a step of the wall clock changes
// nothing), else on the wall clock; negative once it has passed.
func (s *Session) left(rec state.Record) time.Duration {
	if b := rec.BootAt; b != nil {
		if boot, since, ok := s.clock.SinceBoot(); ok && boot == b.Boot {
			return b.At - since
		}
	}
	return rec.Deadline.Sub(s.clock.Now())
}

// expired reports whether the freeze in rec is past its deadline.
func (s *Session) expired(rec state.Record) bool {
	return (!rec.Deadline.IsZero() || rec.BootAt != nil) && s.left(rec) <= 0
}

// join adds c to the freeze in place, changing nothing else.
func (s *Session) join(ctx context.Context, r *Run, c Caller) (Result, error) {
	m := s.method(r.Rec.Method)
	if r.Rec.Owed {
		if err := m.Holds(ctx, r); err != nil {
			return Result{Method: m.Name()}, &FreezeError{Cause: fmt.Errorf("the freeze in place (%s) is not what its record says, not joined: %w; 'quiesce recover' settles it",
				describeHolders(holderNames(r.Rec.Holders)), err), NotStopped: true}
		}
	}
	now := s.clock.Now()
	h := c.holder(now)
	before := holderNames(r.Rec.Holders)
	out, kept := Joined, r.Rec.Holders[:0:0]
	for _, old := range r.Rec.Holders {
		if old.Key() == h.Key() {
			out = Refreshed // the same caller again: replace, never count twice
			continue
		}
		kept = append(kept, old)
	}
	d := s.deadline(r, m, c, now)
	// A hold that cannot outlast its window (a backup mode's limit) ends
	// too soon for a caller that joins near its end: its snapshot would
	// come after. The window is what a freeze of its own would get.
	window := s.deadline(&Run{Rec: &state.Record{}, s: s}, m, c, now).Sub(now)
	moved := d.After(r.Rec.Deadline)
	if moved {
		s.setDeadline(r.Rec, d)
	}
	if left := s.left(*r.Rec); left < MinHold(window) {
		return Result{}, &LateJoinError{Hold: m.Describe(r), Ends: r.Rec.Deadline, Left: max(left, 0), Holders: before}
	}
	r.Rec.Holders = append(kept, h)
	r.Rec.Expired = without(r.Rec.Expired, c) // a new freeze by c: its thaw is this freeze's, not a late one
	if err := r.Save(); err != nil {
		return Result{}, err
	}
	var warnings []string
	if e, ok := m.(Extender); ok && moved {
		if err := e.Extend(ctx, r, r.Rec.Deadline); err != nil {
			s.log.Warn("the freeze's new deadline could not be followed", zap.String("caller", c.Name), zap.Error(err))
			warnings = append(warnings, err.Error())
		}
	}
	what := m.Describe(r)
	msg := fmt.Sprintf("already %s %s; %s joined, nothing changed", what, describeHolders(before), c.Name)
	if out == Refreshed {
		msg = fmt.Sprintf("already %s by %s; freeze renewed, nothing changed", what, c.Name)
	}
	return Result{Outcome: out, Method: m.Name(), Message: msg, Holders: holderNames(r.Rec.Holders), Warnings: warnings}, nil
}

// enter freezes by the first method that can; see Options.Methods.
func (s *Session) enter(ctx context.Context, r *Run, c Caller) (Result, error) {
	began := s.clock.Now()
	var failed error
	for i, m := range s.methods {
		res, err := s.enterWith(ctx, r, m, c)
		if err == nil {
			if failed != nil {
				res.Fallback = true
				res.Warnings = append([]string{fmt.Sprintf("%v; fell back to %s", failed, describeMethod(m))}, res.Warnings...)
			}
			return res, nil
		}
		last := i == len(s.methods)-1
		switch {
		case last:
			return res, err
		case errors.Is(err, ErrNotRunning):
			continue // the next method records that it is not running
		case errors.Is(err, ErrNotUsable) && s.fallback:
			continue // auto: a method not set up here is not a failure
		case !s.fallback || !unchanged(err):
			return res, err
		}
		next, ok := s.fallbackBudget(c, s.methods[i+1], began)
		if !ok {
			return res, &FreezeError{Cause: fmt.Errorf("%w; no fallback to %s: %s of the caller's budget left", err, describeMethod(s.methods[i+1]),
				next.Budget.Round(time.Second)), NotStopped: true}
		}
		s.log.Warn("freeze method failed before the snapshot; falling back", zap.String("method", m.Name()),
			zap.String("next", s.methods[i+1].Name()), zap.String("caller", c.Name), zap.Error(err))
		c, failed = next, err
	}
	return Result{}, errors.New("freeze: no method")
}

// fallbackBudget is what remains of c's budget for method m after the
// failed attempt; ok is false when m no longer fits it.
func (s *Session) fallbackBudget(c Caller, m Method, began time.Time) (Caller, bool) {
	if c.Budget <= 0 {
		return c, true
	}
	c.Budget -= s.clock.Now().Sub(began)
	return c, c.Budget > 0 && !m.Plan(c).TooTight
}

// enterWith freezes by method m: the record first says what is under way,
// so that an interrupted freeze is found and undone, and a watchdog is
// armed before anything changes.
func (s *Session) enterWith(ctx context.Context, r *Run, m Method, c Caller) (Result, error) {
	res, change, err := m.Check(ctx, c)
	res.Method = m.Name()
	if err != nil {
		return res, err
	}
	now := s.clock.Now()
	rec := state.Record{Version: state.Version, Instance: s.key, Name: s.inst.Name, Method: m.Name(),
		Holders: []state.Holder{c.holder(now)}, Since: now, Expired: without(r.Rec.Expired, c), ExpiredAt: r.Rec.ExpiredAt,
		ExpiredEnd: r.Rec.ExpiredEnd, ExpiredChanged: r.Rec.ExpiredChanged}
	*r.Rec = rec
	s.setDeadline(r.Rec, s.deadline(r, m, c, now))
	if !change {
		if err := r.Save(); err != nil {
			return Result{}, err
		}
		return res, nil
	}
	// The watchdog first, then the record, then the change: a kill at
	// any step leaves either nothing to guard or a record in phase
	// entering with a watchdog that settles it.
	s.armWatchdog()
	r.Rec.Owed, r.Rec.Phase = true, state.PhaseEntering
	if err := r.Save(); err != nil {
		return Result{}, err
	}
	res, err = m.Enter(ctx, r, c)
	res.Method = m.Name()
	if err == nil {
		err = s.timeLeft(*r.Rec)
	}
	if err == nil {
		r.Rec.Phase, r.Rec.HeldAt = state.PhaseHeld, s.clock.Now()
		err = r.Save()
	}
	if err != nil {
		return s.abort(ctx, r, m, c, res, err)
	}
	return res, nil
}

// abort undoes a freeze that failed part-way: the method brings the
// instance back before the caller hears of the failure.
func (s *Session) abort(ctx context.Context, r *Run, m Method, c Caller, entered Result, cause error) (Result, error) {
	s.log.Error("freeze failed, restoring", zap.String("method", m.Name()), zap.String("caller", c.Name), zap.Error(cause))
	res, err := m.Abort(ctx, r, c, cause)
	res.Method = m.Name()
	res.Forced = res.Forced || entered.Forced
	return res, err
}

// MinHold is the least part of its deadline window a freeze must have
// left when the instance is consistent, a quarter of the window and at
// most 30 s: less, and the watchdog would end the freeze while the caller
// takes its snapshot.
func MinHold(window time.Duration) time.Duration { return min(window/4, 30*time.Second) }

// timeLeft reports whether the snapshot still has time before the
// freeze's deadline. An Enter that used up the window (a slow machine, a
// slow shutdown) must not report success: the watchdog would end the
// freeze during the snapshot, an inconsistent snapshot reported as a
// success.
func (s *Session) timeLeft(rec state.Record) error {
	window := rec.Deadline.Sub(rec.Since)
	if left := s.left(rec); left < MinHold(window) {
		return &NoTimeLeftError{Window: window, Left: max(left, 0)}
	}
	return nil
}

// Thaw ends c's freeze; the last holder's thaw brings the instance back.
// Thawing what is not frozen succeeds and does nothing; a thaw whose
// freeze expired is told so.
func (s *Session) Thaw(ctx context.Context, c Caller) (Result, error) {
	res, err := s.locked(ctx, "thaw by "+c.Name, func(r *Run) (Result, error) {
		missed := s.missedDeadline(ctx, r, c)
		var settled *Result
		if missed == "" {
			settled = s.settleFirst(ctx, r)
		}
		if !r.Rec.Held() {
			if res, late, err := s.lateThaw(r, c); late {
				return res, err
			}
			if settled != nil && (settled.Outcome == Started || settled.Outcome == FoundRunning) {
				return *settled, nil
			}
			return Result{Outcome: NothingToThaw, Message: "nothing frozen; nothing to do"}, nil
		}
		m := s.method(r.Rec.Method)
		b := s.thawBy(c, *r.Rec)
		r.Rec.Holders = without(r.Rec.Holders, c)
		if r.Rec.Frozen() {
			if err := r.Save(); err != nil {
				return Result{}, err
			}
			return Result{Outcome: StillHeld, Method: m.Name(), Holders: holderNames(r.Rec.Holders),
				Message: fmt.Sprintf("%s thawed; still %s by %s", c.Name, m.Describe(r), strings.Join(holderNames(r.Rec.Holders), ", "))}, nil
		}
		window := s.window(*r.Rec)
		res, err := m.Leave(ctx, r, b)
		res.Method, res.Window = m.Name(), window
		if missed != "" {
			res.Warnings = append(res.Warnings, missed)
		}
		return res, err
	})
	s.done(ctx, OpThaw, c, res, err)
	return res, err
}

// missedDeadline is a thaw by c of a freeze past its deadline that nothing
// ended (no watchdog ran: it was killed, or could not be started): when
// the instance is still held as the record says, the freeze held until
// this thaw, and c's snapshot is what the freeze promised. The thaw is
// then an ordinary thaw, late, and says so; "" otherwise (the freeze is
// settled first, and c's thaw is told it is late).
func (s *Session) missedDeadline(ctx context.Context, r *Run, c Caller) string {
	if !r.Rec.Frozen() || r.Rec.Interrupted() || !s.expired(*r.Rec) {
		return ""
	}
	held := false
	for _, h := range r.Rec.Holders {
		held = held || h.Caller == c.Name
	}
	m := s.method(r.Rec.Method)
	if !held || m.Holds(ctx, r) != nil {
		return ""
	}
	s.log.Error("a freeze ran past its deadline and nothing ended it (no watchdog guarded it)", zap.String("caller", c.Name),
		zap.Time("deadline", r.Rec.Deadline), zap.Strings("holders", holderNames(r.Rec.Holders)))
	return fmt.Sprintf("late thaw: the freeze's deadline was %s and nothing ended it (no watchdog ran): %s stayed %s until this thaw, so the snapshot is as the freeze left it",
		r.Rec.Deadline.Format(time.RFC3339), s.inst.Name, m.Describe(r))
}

// window is how long the freeze in rec held the instance consistent, to
// now; zero when unknown.
func (s *Session) window(rec state.Record) time.Duration {
	if rec.HeldAt.IsZero() {
		return 0
	}
	return max(s.clock.Now().Sub(rec.HeldAt), 0)
}

// thawBy is when a thaw by c must answer at the latest. rec is the record
// before c's hold is removed: for a cycle caller the end of its one timer
// counts from its freeze.
func (s *Session) thawBy(c Caller, rec state.Record) Bound {
	b := Bound{Who: c.Name + "'s thaw"}
	if c.Thaw <= 0 {
		return b
	}
	began := c.Began
	if began.IsZero() {
		began = s.clock.Now()
	}
	b.By = began.Add(c.Thaw - ThawMargin(c.Thaw))
	if !c.Cycle || c.Budget <= 0 {
		return b
	}
	for _, h := range rec.Holders {
		if h.Caller != c.Name {
			continue
		}
		if end := h.Since.Add(c.Budget - cycleSafety); end.Before(b.By) {
			b.By = end
		}
	}
	return b
}

// without removes c's holder. When none matches caller and job exactly,
// the caller's thaw ends all of that caller's holds (its job identity was
// lost or changed between its two calls); another caller's freeze always
// stays in force.
func without(hs []state.Holder, c Caller) []state.Holder {
	key := c.holder(time.Time{}).Key()
	exact := false
	for _, h := range hs {
		exact = exact || h.Key() == key
	}
	out := make([]state.Holder, 0, len(hs))
	for _, h := range hs {
		if (exact && h.Key() == key) || (!exact && h.Caller == c.Name) {
			continue
		}
		out = append(out, h)
	}
	return out
}

func holderNames(hs []state.Holder) []string {
	var out []string
	for _, h := range hs {
		name := h.Caller
		if h.Job != "" {
			name += " (job " + h.Job + ")"
		}
		out = append(out, name)
	}
	return out
}

func describeHolders(names []string) string {
	if len(names) == 0 {
		return "start pending"
	}
	return "by " + strings.Join(names, ", ")
}

// describeMethod names a method in a fallback message.
func describeMethod(m Method) string {
	if m.Name() == "stop" {
		return "stop/start"
	}
	return m.Name()
}

// done writes the one structured line every caller's operation gets, and
// reports it to the context's observer.
func (s *Session) done(ctx context.Context, op string, c Caller, res Result, err error) {
	fields := []zap.Field{zap.String("op", op), zap.String("caller", c.Name), zap.String("job", c.Job), zap.String("method", res.Method),
		zap.Duration("took", res.Took), zap.Duration("downtime", res.Downtime), zap.Duration("window", res.Window),
		zap.Bool("forced", res.Forced), zap.Strings("holders", res.Holders)}
	if err != nil {
		s.log.Error("operation failed", append(fields, zap.Error(err))...)
	} else {
		fields = append(fields, zap.String("outcome", res.Outcome.String()), zap.String("message", res.Message), zap.Strings("warnings", res.Warnings))
		s.log.Info("operation done", fields...)
	}
	s.observe(ctx, op, c.Name, res, err)
}

// Operator is what a caller adapter drives.
type Operator interface {
	Freeze(ctx context.Context, c Caller) (Result, error)
	Thaw(ctx context.Context, c Caller) (Result, error)
	Plan(c Caller) Plan
}

var _ Operator = (*Session)(nil)

// WithWatchdog sets how a freeze arms the watchdog: a function that starts
// a process running Watch, detached from quiesce and its caller.
func (s *Session) WithWatchdog(arm func() error) *Session {
	s.arm = arm
	return s
}

// StartNote returns the last start a thaw handed to the watchdog, if any.
func (s *Session) StartNote() (state.StartNote, bool, error) { return s.store.LoadStartNote(s.key) }

// Doc reads what a method keeps beside the instance's record under
// suffix (Run.Store's document KEY.SUFFIX) into v, for status; false
// when there is none.
func (s *Session) Doc(suffix string, v any) (bool, error) {
	return s.store.LoadDoc(s.key+"."+suffix, v)
}
