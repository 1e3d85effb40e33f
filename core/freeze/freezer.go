package freeze

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/state"
)

// Caller is who asks for a freeze or thaw.
type Caller struct {
	Name   string        // vmware, veeam, arcserve, qemu, cli, ...
	Job    string        // the caller's job identity, when it gives one
	Budget time.Duration // time the caller allows one invocation; 0: none
	Limits               // thaw limit, and whether one timer covers the whole cycle
	Began  time.Time     // when the caller's invocation began; zero: when the operation begins
}

func (c Caller) holder(now time.Time) state.Holder {
	return state.Holder{Caller: c.Name, Job: c.Job, Since: now, PID: os.Getpid()}
}

// Policy are the freeze settings.
type Policy struct {
	ContinueForced bool          // a forced stop still counts as a successful freeze
	LockWait       time.Duration // wait for another quiesce at most this long
	WatchdogMargin time.Duration // deadline = freeze + caller budget + margin
	DefaultWindow  time.Duration // deadline window for callers without a budget
	Deadline       time.Duration // fixed deadline window; 0: budget + margin
}

// Outcome says what a freeze or thaw did.
type Outcome int

// Outcomes.
const (
	Stopped       Outcome = iota // freeze: the application was stopped
	NotRunning                   // freeze: it was not running; nothing changed
	Joined                       // freeze: already frozen by another caller; joined
	Refreshed                    // freeze: this caller froze it already; deadline renewed
	Started                      // thaw: the application was started and serves
	NothingToThaw                // thaw: nothing was frozen (thaw twice, thaw without freeze)
	StillHeld                    // thaw: other callers still hold the freeze
	NotStarted                   // thaw: it was not running before the freeze; left stopped
	FoundRunning                 // thaw: someone started it meanwhile
	BackupMode                   // freeze: online, every database in backup mode; nothing stopped
	Released                     // thaw: online backup mode ended; the application never stopped
	Launched                     // thaw: launched, not serving yet at the caller's thaw limit; the watchdog proves readiness
)

var outcomeNames = [...]string{"stopped", "not-running", "joined", "refreshed", "started",
	"nothing-to-thaw", "still-held", "not-started", "found-running", "backup-mode", "released", "launched"}

func (o Outcome) String() string {
	if o == StoodAside {
		return "stood-aside"
	}
	return outcomeNames[o]
}

// Result describes a freeze or thaw.
type Result struct {
	Outcome  Outcome
	Message  string        // one short line for the caller
	Warnings []string      // things the caller should know (forced stop, ...)
	Took     time.Duration // wall time of the operation
	Downtime time.Duration // thaw: how long the application was down
	Holders  []string      // callers still holding the freeze
}

// Freezer freezes and thaws one target.
type Freezer struct {
	target Target
	store  *state.Store
	policy Policy
	log    *zap.Logger
	clock  clock.Clock
	arm    func() error // starts a watchdog that outlives this process
	armed  bool         // this process has started a watchdog already
}

// WithWatchdog sets how a freeze arms the watchdog: a function that starts
// a process running Watch, detached from quiesce and its caller.
func (f *Freezer) WithWatchdog(arm func() error) *Freezer {
	f.arm = arm
	return f
}

// armWatchdog starts the watchdog, once per process, unless one guards
// the target already. It is called with the target's lock held and before
// the record says that anything needs guarding: the watchdog looks at the
// record only with that lock held, so it sees the record as this process
// leaves it, finished or killed at any step, and a kill before the
// watchdog is started leaves nothing to guard. A watchdog that holds its
// guard lock now gives it up only under the target's lock, after a look
// at the record: it will see what this process leaves.
func (f *Freezer) armWatchdog() {
	if f.arm == nil || f.armed {
		return
	}
	if held, err := f.store.Held(f.guardLock()); err == nil && held {
		return
	}
	if err := f.arm(); err != nil {
		f.log.Error("cannot start the watchdog; a freeze never thawed will only end at the next quiesce run or 'quiesce recover'", zap.Error(err))
		return
	}
	f.armed = true
}

// guardLock names the lock the target's one watchdog holds.
func (f *Freezer) guardLock() string { return f.target.Name() + ".watchdog" }

// settleFirst runs the recovery checks before an operation: an interrupted
// or expired freeze is settled before anything new happens.
// settled is nil when nothing needed settling.
func (f *Freezer) settleFirst(ctx context.Context, rec state.Record, who string) (next state.Record, settled *Result) {
	if rec.Empty() || (!rec.Interrupted() && (rec.Deadline.IsZero() || f.clock.Now().Before(rec.Deadline))) {
		return rec, nil
	}
	res, next, err := f.settle(ctx, rec, false, who)
	if err != nil {
		f.log.Error("recovery before the operation failed", zap.String("by", who), zap.Error(err))
		if reread, lerr := f.store.Load(f.target.Name()); lerr == nil {
			return reread, nil
		}
		return rec, nil
	}
	f.log.Warn("settled a previous freeze first", zap.String("by", who), zap.String("outcome", res.Outcome.String()))
	return next, &res
}

// New returns a Freezer.
func New(t Target, s *state.Store, p Policy, log *zap.Logger, c clock.Clock) *Freezer {
	if p.DefaultWindow == 0 {
		p.DefaultWindow = time.Hour
	}
	return &Freezer{target: t, store: s, policy: p, log: log.With(zap.String("target", t.Name())), clock: c}
}

// TargetName names the target this Freezer guards.
func (f *Freezer) TargetName() string { return f.target.Name() }

// Target is the application this engine freezes.
func (f *Freezer) Target() Target { return f.target }

// Plan returns how a freeze by c fits c's budget.
func (f *Freezer) Plan(c Caller) Plan { return PlanCaller(c, f.target.Timeouts()) }

// deadline is when the application must be running again if no thaw comes.
func (f *Freezer) deadline(c Caller, now time.Time) time.Time {
	if f.policy.Deadline > 0 {
		return now.Add(f.policy.Deadline)
	}
	window := c.Budget
	if window == 0 {
		window = f.policy.DefaultWindow
	}
	return now.Add(window + f.policy.WatchdogMargin)
}

// locked runs fn with the target's lock held and its record loaded.
func (f *Freezer) locked(ctx context.Context, op string, fn func(rec state.Record) (Result, error)) (Result, error) {
	began := f.clock.Now()
	lock, err := f.store.Lock(ctx, f.target.Name(), op, f.policy.LockWait)
	if err != nil {
		return Result{}, err
	}
	defer lock.Unlock()
	rec, err := f.store.Load(f.target.Name())
	if err != nil {
		return Result{}, err
	}
	if !rec.Empty() {
		// Whatever this operation does to a freeze in place (finish an
		// interrupted stop, start the application, join), a kill at any
		// step of it must find a watchdog: the one that guarded the
		// record may have been killed, or may never have been started.
		f.armWatchdog()
	}
	res, err := fn(rec)
	res.Took = f.clock.Now().Sub(began)
	return res, err
}

// Freeze stops the target for caller c, or joins a freeze in place.
func (f *Freezer) Freeze(ctx context.Context, c Caller) (Result, error) {
	res, err := f.locked(ctx, "freeze by "+c.Name, func(rec state.Record) (Result, error) {
		rec, _ = f.settleFirst(ctx, rec, "freeze by "+c.Name)
		if rec.Frozen() || rec.StartOwed() {
			return f.join(rec, c)
		}
		return f.freeze(ctx, rec, c)
	})
	f.logResult("freeze", c, res, err)
	return res, err
}

// join adds c to a freeze that is in place, changing nothing else.
func (f *Freezer) join(rec state.Record, c Caller) (Result, error) {
	now := f.clock.Now()
	h := c.holder(now)
	before := describe(rec)
	out := Joined
	kept := rec.Holders[:0]
	for _, old := range rec.Holders {
		if old.Key() == h.Key() {
			out = Refreshed // the same caller again: replace, never count twice
			continue
		}
		kept = append(kept, old)
	}
	rec.Holders = append(kept, h)
	if d := f.deadline(c, now); d.After(rec.Deadline) {
		rec.Deadline = d
	}
	rec.Updated = now
	if err := f.store.Save(rec); err != nil {
		return Result{}, err
	}
	msg := fmt.Sprintf("already frozen %s; %s joined, nothing changed", before, c.Name)
	if out == Refreshed {
		msg = fmt.Sprintf("already frozen by %s; freeze renewed, nothing changed", c.Name)
	}
	return Result{Outcome: out, Message: msg, Holders: holderNames(rec)}, nil
}

func (f *Freezer) freeze(ctx context.Context, rec state.Record, c Caller) (Result, error) {
	now := f.clock.Now()
	running, err := f.target.Running()
	if err != nil {
		return Result{}, err
	}
	rec.Holders = []state.Holder{c.holder(now)}
	rec.Deadline, rec.Updated = f.deadline(c, now), now
	if !running {
		rec.WasRunning, rec.StoppedByFreeze, rec.Phase = false, false, ""
		if err := f.store.Save(rec); err != nil {
			return Result{}, err
		}
		return Result{Outcome: NotRunning, Message: f.target.Name() + " is not running; nothing to stop"}, nil
	}
	if err := Refuse(c, f.Plan(c)); err != nil {
		return Result{}, &FreezeError{Cause: err, NotStopped: true}
	}
	// The watchdog first, then the record, then the stop: a kill at any
	// step leaves either nothing to guard or a record in phase stopping
	// with a watchdog that finishes the stop and starts the application.
	f.armWatchdog()
	rec.WasRunning, rec.StoppedByFreeze, rec.Phase, rec.StoppedAt = true, true, state.PhaseStopping, now
	if err := f.store.Save(rec); err != nil {
		return Result{}, err
	}
	plan := f.Plan(c)
	if plan.Capped {
		f.log.Warn("graceful wait capped to fit the caller's budget", zap.String("caller", c.Name),
			zap.Duration("configured", plan.Configured), zap.Duration("used", plan.Graceful))
	}
	rep, err := f.target.Stop(ctx, plan.Graceful)
	if err == nil && rep.Forced && !f.policy.ContinueForced {
		err = fmt.Errorf("%s could only be stopped by force (%s; killed %s): its databases may be open in the snapshot",
			f.target.Name(), rep.Outcome, strings.Join(rep.Killed, ", "))
	}
	if err == nil {
		err = f.timeLeft(rec)
	}
	if err != nil {
		return f.restore(ctx, rec, c, err)
	}
	rec.Phase, rec.Updated = state.PhaseStopped, f.clock.Now()
	if err := f.store.Save(rec); err != nil {
		return f.restore(ctx, rec, c, err)
	}
	res := Result{Outcome: Stopped, Message: fmt.Sprintf("%s stopped (%s) in %s", f.target.Name(), rep.Outcome, secs(rep.Took))}
	if rep.Forced {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s had to be killed (%s): databases of %s may not be closed cleanly in this snapshot",
			f.target.Name(), rep.Outcome, strings.Join(rep.Killed, ", ")))
	}
	return res, nil
}

// minHold is the least part of its deadline window a freeze must have
// left when the application is down, a quarter of the window and at most
// 30 s: less, and the watchdog would start the application again while the
// caller takes its snapshot.
func minHold(window time.Duration) time.Duration { return min(window/4, 30*time.Second) }

// timeLeft reports whether the snapshot still has time before the
// freeze's deadline. A stop that used up the window (a slow machine, a
// slow shutdown) must not report success: the watchdog would restart the
// application during the snapshot, an inconsistent snapshot reported as
// a success.
func (f *Freezer) timeLeft(rec state.Record) error {
	window := rec.Deadline.Sub(rec.StoppedAt)
	if left := rec.Deadline.Sub(f.clock.Now()); left < minHold(window) {
		return &NoTimeLeftError{Window: window, Left: max(left, 0)}
	}
	return nil
}

// restoreTimeout bounds the readiness wait of a restore when the caller
// has already given up on this invocation.
const restoreTimeout = 2 * time.Minute

// restore starts the application again after a failed freeze and forgets
// the freeze. The start survives quiesce: it is launched detached.
func (f *Freezer) restore(ctx context.Context, rec state.Record, c Caller, cause error) (Result, error) {
	f.log.Error("freeze failed, restoring the application", zap.String("caller", c.Name), zap.Error(cause))
	rec.Phase, rec.Updated = state.PhaseStarting, f.clock.Now()
	_ = f.store.Save(rec)
	if running, _ := f.target.Running(); running && ctx.Err() != nil {
		// The caller gave up while the application is still going down: it
		// cannot be started before it is down, and this process may be
		// killed any moment. The watchdog finishes the job.
		rec.Phase, rec.Holders, rec.Deadline = state.PhaseStopping, nil, f.clock.Now()
		_ = f.store.Save(rec)
		return Result{}, &FreezeError{Cause: cause, Pending: true}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(f.target.Timeouts().Start, restoreTimeout))
	defer cancel()
	_, serr := f.target.Start(sctx)
	if serr != nil && !errors.Is(serr, ErrAlreadyRunning) {
		rec.Phase, rec.Holders, rec.Deadline = state.PhaseStartFailed, nil, f.clock.Now()
		_ = f.store.Save(rec)
		return Result{}, &FreezeError{Cause: cause, RestoreErr: serr}
	}
	if err := f.store.Clear(f.target.Name()); err != nil {
		f.log.Error("cannot clear state", zap.Error(err))
	}
	if serr != nil { // already running: the failed stop never took it down
		return Result{}, &FreezeError{Cause: cause, NotStopped: true}
	}
	return Result{}, &FreezeError{Cause: cause, Restored: true}
}

// Thaw ends c's freeze; the last holder to thaw starts the application if
// a freeze stopped it. Thawing what is not frozen succeeds and does nothing.
func (f *Freezer) Thaw(ctx context.Context, c Caller) (Result, error) {
	res, err := f.locked(ctx, "thaw by "+c.Name, func(rec state.Record) (Result, error) {
		rec, settled := f.settleFirst(ctx, rec, "thaw by "+c.Name)
		if !rec.Frozen() && !rec.StartOwed() {
			if res, late, err := f.lateThaw(rec, c); late {
				return res, err
			}
			if settled != nil && (settled.Outcome == Started || settled.Outcome == FoundRunning) {
				return *settled, nil
			}
			return Result{Outcome: NothingToThaw, Message: "nothing frozen; nothing to do"}, nil
		}
		b := f.thawBy(c, rec)
		rec.Holders = without(rec.Holders, c)
		if rec.Frozen() {
			rec.Updated = f.clock.Now()
			if err := f.store.Save(rec); err != nil {
				return Result{}, err
			}
			return Result{Outcome: StillHeld, Message: fmt.Sprintf("%s thawed; still frozen by %s", c.Name, strings.Join(holderNames(rec), ", ")),
				Holders: holderNames(rec)}, nil
		}
		return f.startOwed(ctx, rec, b)
	})
	f.logResult("thaw", c, res, err)
	return res, err
}

// startOwed starts the application when a freeze stopped it, and forgets
// the freeze once it serves; b bounds the wait for readiness.
func (f *Freezer) startOwed(ctx context.Context, rec state.Record, b bound) (Result, error) {
	if !rec.StartOwed() {
		if err := f.store.Clear(f.target.Name()); err != nil {
			return Result{}, err
		}
		return Result{Outcome: NotStarted, Message: f.target.Name() + " was not running before the freeze; left stopped"}, nil
	}
	rep, out, blocked, err := f.startWithin(ctx, rec, b)
	downtime := f.clock.Now().Sub(rec.StoppedAt)
	var te *ThawError
	if errors.As(err, &te) {
		return Result{Downtime: downtime}, err
	}
	if err != nil {
		return Result{}, err
	}
	if out == Launched {
		return f.launched(rep), nil
	}
	if err := f.store.Clear(f.target.Name()); err != nil {
		return Result{}, err
	}
	switch out {
	case FoundRunning:
		return Result{Outcome: FoundRunning, Message: f.target.Name() + " is running already (started by someone else); nothing to do",
			Warnings: []string{f.target.Name() + " was started by someone else during the freeze"}}, nil
	case NotStarted:
		return Result{Outcome: NotStarted, Message: "not started: " + blocked.Error(), Warnings: []string{blocked.Error()}}, nil
	}
	return Result{Outcome: Started, Downtime: downtime,
		Message: fmt.Sprintf("%s started and serving in %s (down %s)", f.target.Name(), secs(rep.Ready), secs(downtime))}, nil
}

// startStopped starts the application a freeze stopped: the start is
// recorded first, so an interrupted one is found and finished, and a
// failed one is recorded as still owed (start-failed) for a retry. out is
// Started, FoundRunning (it runs already) or NotStarted (blocked says by
// what); err is a *ThawError when the start failed.
func (f *Freezer) startStopped(ctx context.Context, rec state.Record) (rep StartReport, out Outcome, blocked, err error) {
	rec.Phase, rec.Updated = state.PhaseStarting, f.clock.Now()
	if err := f.store.Save(rec); err != nil {
		return rep, 0, nil, err
	}
	rep, err = f.target.Start(ctx)
	return f.started(rec, rep, err)
}

// started sorts out how a start ended; a failed one is recorded as still
// owed (start-failed).
func (f *Freezer) started(rec state.Record, rep StartReport, err error) (StartReport, Outcome, error, error) {
	switch {
	case errors.Is(err, ErrAlreadyRunning):
		return rep, FoundRunning, nil, nil
	case errors.Is(err, ErrStartBlocked):
		return rep, NotStarted, err, nil
	case err != nil:
		rec.Phase, rec.Updated, rec.Note = state.PhaseStartFailed, f.clock.Now(), err.Error()
		_ = f.store.Save(rec)
		return rep, 0, nil, &ThawError{Cause: err}
	}
	return rep, Started, nil, nil
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

func holderNames(rec state.Record) []string {
	var out []string
	for _, h := range rec.Holders {
		name := h.Caller
		if h.Job != "" {
			name += " (job " + h.Job + ")"
		}
		out = append(out, name)
	}
	return out
}

func describe(rec state.Record) string {
	if len(rec.Holders) == 0 {
		return "start pending"
	}
	return "by " + strings.Join(holderNames(rec), ", ")
}

// logResult writes the one structured line every caller's operation gets.
func (f *Freezer) logResult(op string, c Caller, res Result, err error) {
	fields := []zap.Field{zap.String("op", op), zap.String("caller", c.Name), zap.String("job", c.Job),
		zap.Duration("took", res.Took), zap.Duration("downtime", res.Downtime), zap.Strings("holders", res.Holders)}
	if err != nil {
		f.log.Error("operation failed", append(fields, zap.Error(err))...)
		return
	}
	fields = append(fields, zap.String("outcome", res.Outcome.String()), zap.Strings("warnings", res.Warnings))
	f.log.Info("operation done", fields...)
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

// Operator is what a caller adapter drives.
type Operator interface {
	Freeze(ctx context.Context, c Caller) (Result, error)
	Thaw(ctx context.Context, c Caller) (Result, error)
	Plan(c Caller) Plan
}

var _ Operator = (*Freezer)(nil)
