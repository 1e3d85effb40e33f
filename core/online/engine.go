package online

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/proc"
	"github.com/quiesce/quiesce/core/runas"
	"github.com/quiesce/quiesce/core/state"
)

// TargetName is the online engine's name in the state directory and logs.
const TargetName = "domino-online"

// Phases of an online freeze.
const (
	phaseRequested = "backup-requested" // asking Domino Backup for backup mode
	phaseInMode    = "backup-mode"      // every database in backup mode; frozen
	phaseReleasing = "backup-releasing" // the snapshot is done; backup mode ending
)

// Settings are the online engine's limits.
type Settings struct {
	EnterTimeout   time.Duration // all databases in backup mode by then, else the freeze fails
	MaxWindow      time.Duration // backup mode never lasts longer (below Domino's own snapshot limit)
	ReleaseTimeout time.Duration // thaw: backup mode ended and deltas written by then
	TaskWait       time.Duration // the backup task must appear by then after "load backup -s"
	DeltaDir       string        // BackupTargetDirDb as configured in dominobackup.nsf; "" when not told
	LockWait       time.Duration
}

// DefaultSettings: HCL's scripts allow 120 s to enter backup mode, and
// Domino fails a snapshot command that runs 120 s; the window ends before.
var DefaultSettings = Settings{EnterTimeout: 120 * time.Second, MaxWindow: 100 * time.Second,
	ReleaseTimeout: 120 * time.Second, TaskWait: 10 * time.Second, LockWait: 5 * time.Minute}

// Engine freezes one Domino server online.
type Engine struct {
	srv   *domino.Server
	store *state.Store
	set   Settings
	log   *zap.Logger
	clock clock.Clock
	arm   func() error
}

// New returns the online engine of srv.
func New(srv *domino.Server, store *state.Store, set Settings, log *zap.Logger, c clock.Clock) *Engine {
	return &Engine{srv: srv, store: store, set: set, log: log.With(zap.String("target", TargetName)), clock: c}
}

// WithWatchdog sets how a freeze arms the watchdog (a detached process
// running Watch).
func (e *Engine) WithWatchdog(arm func() error) *Engine {
	e.arm = arm
	return e
}

func (e *Engine) data() string { return e.srv.Config().Data }

// Configured reports whether Domino Backup is set up on this server
// (dominobackup.nsf exists in the data directory).
func (e *Engine) Configured() bool {
	_, err := os.Stat(filepath.Join(e.data(), "dominobackup.nsf"))
	return err == nil
}

// Failure is an online freeze that did not reach backup mode, or a thaw
// whose backup did not complete.
type Failure struct {
	Cause error
	// Ended: Domino Backup is over (the task exited or never ran): no
	// database is left in backup mode.
	Ended bool
}

func (f *Failure) Error() string {
	if f.Ended {
		return fmt.Sprintf("online backup failed: %v (Domino kept serving; no database left in backup mode)", f.Cause)
	}
	return fmt.Sprintf("online backup failed: %v (the backup task still runs: Domino Backup ends it at its own limit)", f.Cause)
}
func (f *Failure) Unwrap() error { return f.Cause }

// LateJoinError is a freeze that would join backup mode too close to its
// end: the caller's snapshot would come after it. The freeze in place is
// left as it was.
type LateJoinError struct {
	Backup  string
	Ends    time.Time
	Left    time.Duration
	Holders []string
}

func (e *LateJoinError) Error() string {
	return fmt.Sprintf("Domino Backup %s (backup mode for %s) ends at %s, %s from now: too little for this caller's snapshot, which would not be restorable; not joined (the freeze in place is unchanged; freeze again once it is over)",
		e.Backup, strings.Join(e.Holders, ", "), e.Ends.Format("15:04:05"), e.Left.Round(time.Millisecond))
}

// files runs fn as the Domino user (runas.Files): the status file, the
// tag files and the deltas live in directories that user controls, and a
// link planted there must reach nothing that user could not.
func (e *Engine) files(fn func() error) error { return runas.Files(e.srv.Account(), fn) }

// readStatus reads the status file as the Domino user.
func (e *Engine) readStatus() (st Status, err error) {
	ferr := e.files(func() error {
		st, err = ReadStatus(e.data())
		return nil
	})
	if ferr != nil {
		return Status{}, ferr
	}
	return st, err
}

// writeStatus replaces the status file as the Domino user.
func (e *Engine) writeStatus(st Status) error {
	return e.files(func() error { return WriteStatus(e.data(), st) })
}

// removeStatus removes the status file, as the Domino user, if it is
// still token's.
func (e *Engine) removeStatus(token string) {
	_ = e.files(func() error { RemoveStatus(e.data(), token); return nil })
}

func (e *Engine) locked(ctx context.Context, op string, fn func(rec state.Record) (freeze.Result, error)) (freeze.Result, error) {
	began := e.clock.Now()
	lock, err := e.store.Lock(ctx, TargetName, op, e.set.LockWait)
	if err != nil {
		return freeze.Result{}, err
	}
	defer lock.Unlock()
	rec, err := e.store.Load(TargetName)
	if err != nil {
		return freeze.Result{}, err
	}
	res, err := fn(rec)
	res.Took = e.clock.Now().Sub(began)
	return res, err
}

// Frozen reports whether an online freeze is in place.
func (e *Engine) Frozen() (bool, error) {
	rec, err := e.store.Load(TargetName)
	return rec.Backup != nil, err
}

// Freeze puts every database into backup mode for caller c, or joins the
// online freeze in place.
func (e *Engine) Freeze(ctx context.Context, c freeze.Caller) (freeze.Result, error) {
	return e.locked(ctx, "online freeze by "+c.Name, func(rec state.Record) (freeze.Result, error) {
		rec = e.settleFirst(ctx, rec, "freeze by "+c.Name)
		if rec.Backup != nil && rec.Phase == phaseInMode {
			return e.join(rec, c)
		}
		return e.enter(ctx, c)
	})
}

func holder(c freeze.Caller, now time.Time) state.Holder {
	return state.Holder{Caller: c.Name, Job: c.Job, Since: now, PID: os.Getpid()}
}

// deadline is when backup mode ends if no thaw comes: the caller's window
// plus margin like a stop freeze, but never past the backup-mode window.
func (e *Engine) deadline(rec state.Record, c freeze.Caller, now time.Time) time.Time {
	d := now.Add(e.set.MaxWindow)
	if c.Budget > 0 && now.Add(c.Budget).Before(d) {
		d = now.Add(c.Budget)
	}
	if rec.Backup != nil && !rec.Backup.Window.IsZero() && rec.Backup.Window.Before(d) {
		d = rec.Backup.Window
	}
	return d
}

func (e *Engine) join(rec state.Record, c freeze.Caller) (freeze.Result, error) {
	now := e.clock.Now()
	h := holder(c, now)
	out, kept := freeze.Joined, rec.Holders[:0]
	for _, old := range rec.Holders {
		if old.Key() == h.Key() {
			out = freeze.Refreshed
			continue
		}
		kept = append(kept, old)
	}
	rec.Holders = append(kept, h)
	if d := e.deadline(rec, c, now); d.After(rec.Deadline) {
		rec.Deadline = d
	}
	// Backup mode cannot outlast its window (Domino's own limit): a caller
	// that joins when too little of it is left would take its snapshot
	// after backup mode ended, a snapshot that is not restorable.
	window := e.deadline(state.Record{}, c, now).Sub(now)
	if left := rec.Deadline.Sub(now); left < freeze.MinHold(window) {
		return freeze.Result{}, &LateJoinError{Backup: rec.Backup.ID, Ends: rec.Deadline, Left: max(left, 0), Holders: names(rec.Holders[:len(rec.Holders)-1])}
	}
	rec.Updated = now
	if err := e.store.Save(rec); err != nil {
		return freeze.Result{}, err
	}
	msg := fmt.Sprintf("domino already in backup mode (Domino Backup %s) for %s; %s joined", rec.Backup.ID, strings.Join(names(rec.Holders[:len(rec.Holders)-1]), ", "), c.Name)
	if out == freeze.Refreshed {
		msg = fmt.Sprintf("domino already in backup mode (Domino Backup %s) for %s; renewed", rec.Backup.ID, c.Name)
	}
	return freeze.Result{Outcome: out, Message: msg, Holders: names(rec.Holders)}, nil
}

// enter asks Domino Backup for a snapshot backup and waits, on status
// file events and the backup task's exit, until every database is in
// backup mode.
func (e *Engine) enter(ctx context.Context, c freeze.Caller) (freeze.Result, error) {
	main, tasks, err := e.srv.Probe() // one scan for both
	switch {
	case err != nil:
		return freeze.Result{}, &Failure{Cause: err, Ended: true}
	case !main:
		return freeze.Result{}, &Failure{Cause: ErrNotRunning, Ended: true}
	case len(tasks) > 0:
		return freeze.Result{}, &Failure{Cause: fmt.Errorf("a Domino Backup task runs already (%s): quiesce does not share a backup it did not start", strings.Join(proc.Names(tasks), ", ")), Ended: true}
	}
	now := e.clock.Now()
	rec := state.Record{Version: state.Version, Target: TargetName, Holders: []state.Holder{holder(c, now)}, WasRunning: true,
		Phase: phaseRequested, Updated: now, Backup: &state.Backup{Token: NewToken(), Requested: now, Window: now.Add(e.set.MaxWindow)}}
	rec.Deadline = e.deadline(rec, c, now)
	if err := e.store.Save(rec); err != nil {
		return freeze.Result{}, err
	}
	e.armWatchdog()
	id, err := e.request(ctx, rec.Backup.Token, earliest(e.enterBy(c, now), rec.Deadline))
	if err != nil {
		return freeze.Result{}, e.abort(ctx, rec, err)
	}
	inMode := e.clock.Now()
	rec.Phase, rec.Backup.ID, rec.Backup.InMode, rec.Updated = phaseInMode, id, inMode, inMode
	if err := e.store.Save(rec); err != nil {
		return freeze.Result{}, e.abort(ctx, rec, err)
	}
	e.log.Info("all databases in backup mode", zap.String("backup", id), zap.Duration("after", inMode.Sub(now)), zap.Time("deadline", rec.Deadline))
	return freeze.Result{Outcome: freeze.BackupMode, Holders: names(rec.Holders),
		Message: fmt.Sprintf("domino online: every database in backup mode in %s (Domino Backup %s); no outage, backup mode ends at the thaw or by %s",
			secs(inMode.Sub(now)), id, rec.Deadline.Format("15:04:05"))}, nil
}

// request writes REQUESTED, loads the backup task and waits for
// DOMINO-DONE with this token. It returns Domino's backup identity.
func (e *Engine) request(ctx context.Context, token string, deadline time.Time) (string, error) {
	wait := deadline.Sub(e.clock.Now())
	data := e.data()
	w, err := newDirWatch(data)
	if err != nil {
		return "", &Failure{Cause: err, Ended: true}
	}
	defer w.Close()
	if err := e.writeStatus(Status{State: Requested, Token: token, Note: "requested by quiesce"}); err != nil {
		return "", &Failure{Cause: fmt.Errorf("status file: %w", err), Ended: true}
	}
	if err := e.srv.Console(ctx, 30*time.Second, "load backup -s"); err != nil {
		return "", &Failure{Cause: fmt.Errorf("console command \"load backup -s\": %w", err), Ended: true}
	}
	tasks, err := e.awaitTask(ctx, w, earliest(deadline, e.clock.Now().Add(e.set.TaskWait)))
	if err != nil {
		return "", err
	}
	ended := watchExit(ctx, tasks, deadline)
	var st Status
	err = w.until(ctx, deadline, ended, func() (bool, error) {
		st, err = e.readStatus()
		switch {
		case err != nil && !errors.Is(err, ErrNoStatus):
			return false, err
		case st.Ours(token) && st.State == DominoDone:
			return true, nil
		case err == nil && !st.Ours(token):
			return false, fmt.Errorf("the status file %s was replaced by another backup's", StatusFile)
		}
		return false, nil
	})
	switch {
	case errors.Is(err, errTaskEnded):
		//lint:ignore ST1005 "Domino Backup" is a product name
		return "", &Failure{Cause: fmt.Errorf("Domino Backup ended before every database was in backup mode (see the server console)"), Ended: true}
	case errors.Is(err, errTimeout):
		return "", &Failure{Cause: fmt.Errorf("not every database was in backup mode within %s", wait.Round(time.Second))}
	case err != nil:
		return "", &Failure{Cause: err}
	}
	return st.Backup, nil
}

// awaitTask waits until the backup task runs, re-scanning on every change
// in the data directory (the task's own files and the console log).
func (e *Engine) awaitTask(ctx context.Context, w *dirWatch, deadline time.Time) ([]proc.Proc, error) {
	var tasks []proc.Proc
	err := w.until(ctx, deadline, nil, func() (bool, error) {
		var err error
		tasks, err = e.srv.BackupTasks()
		return len(tasks) > 0, err
	})
	if errors.Is(err, errTimeout) {
		return nil, &Failure{Cause: fmt.Errorf("the backup task did not start after \"load backup -s\" (see the server console: is Domino Backup installed?)"), Ended: true}
	}
	if err != nil {
		return nil, &Failure{Cause: err, Ended: true}
	}
	return tasks, nil
}

var errTaskEnded = errors.New("the backup task ended")

// ErrNotRunning: the server is not running; there is nothing to put into
// backup mode (the stop engine's "not running" applies).
var ErrNotRunning = errors.New("the Domino server is not running")

// watchExit reports on the returned channel when every task has exited.
func watchExit(ctx context.Context, tasks []proc.Proc, deadline time.Time) <-chan error {
	ch := make(chan error, 1)
	go func() {
		if left := proc.Wait(ctx, tasks, deadline.Add(time.Second)); len(left) == 0 {
			ch <- errTaskEnded
		}
	}()
	return ch
}

// abort ends a freeze that failed before the snapshot: CANCELLED makes a
// pending snapshot start command fail the backup, which ends backup mode;
// it waits (bounded) until the backup task is gone and forgets the freeze.
func (e *Engine) abort(ctx context.Context, rec state.Record, cause error) error {
	e.log.Error("online freeze failed; cancelling the backup", zap.Error(cause))
	ended := e.cancel(ctx, rec, "freeze failed: "+cause.Error())
	if err := e.store.Clear(TargetName); err != nil {
		e.log.Error("cannot clear the online state", zap.Error(err))
	}
	var f *Failure
	if errors.As(cause, &f) {
		f.Ended = f.Ended || ended
		return f
	}
	return &Failure{Cause: cause, Ended: ended}
}

// cancel tells Domino Backup no snapshot will come and waits until its
// task is gone; it reports whether it is.
func (e *Engine) cancel(ctx context.Context, rec state.Record, why string) bool {
	if st, err := e.readStatus(); err == nil && rec.Backup != nil && st.Ours(rec.Backup.Token) && st.State != Complete {
		st.State, st.Note = Cancelled, oneLine(why)
		if err := e.writeStatus(st); err != nil {
			e.log.Error("cannot cancel through the status file", zap.Error(err))
		}
	}
	tasks, _ := e.srv.BackupTasks()
	left := proc.Wait(context.WithoutCancel(ctx), tasks, e.clock.Now().Add(e.set.ReleaseTimeout))
	if rec.Backup != nil {
		e.removeStatus(rec.Backup.Token)
	}
	if len(left) > 0 {
		e.log.Error("the backup task is still running after the cancel", zap.Strings("tasks", proc.Names(left)))
		return false
	}
	return true
}

func (e *Engine) armWatchdog() {
	if e.arm == nil {
		return
	}
	if err := e.arm(); err != nil {
		e.log.Error("cannot start the watchdog; backup mode ends at Domino Backup's own limit", zap.Error(err))
	}
}

// Thaw ends c's online freeze; the last holder ends backup mode and waits
// until the deltas are written. handled is false when no online freeze is
// in place (the caller's thaw belongs to the stop engine).
func (e *Engine) Thaw(ctx context.Context, c freeze.Caller) (res freeze.Result, handled bool, err error) {
	res, err = e.locked(ctx, "online thaw by "+c.Name, func(rec state.Record) (freeze.Result, error) {
		rec = e.settleFirst(ctx, rec, "thaw by "+c.Name)
		if rec.Backup == nil {
			if late := lateHolder(rec, c); late {
				handled = true
				// Only this caller's late thaw is answered: every other
				// holder of the expired freeze still gets its own.
				if rec.Expired = without(rec.Expired, c); len(rec.Expired) == 0 {
					_ = e.store.Clear(TargetName)
				} else {
					_ = e.store.Save(rec)
				}
				return freeze.Result{}, &Failure{Ended: true, Cause: fmt.Errorf("late thaw: the online freeze by %s expired at %s and backup mode was ended before the thaw: a snapshot taken after that is not restorable",
					c.Name, rec.ExpiredAt.Format(time.RFC3339))}
			}
			return freeze.Result{}, nil
		}
		handled = true
		rec.Holders = without(rec.Holders, c)
		if len(rec.Holders) > 0 {
			rec.Updated = e.clock.Now()
			if err := e.store.Save(rec); err != nil {
				return freeze.Result{}, err
			}
			return freeze.Result{Outcome: freeze.StillHeld, Holders: names(rec.Holders),
				Message: fmt.Sprintf("%s thawed; backup mode stays for %s", c.Name, strings.Join(names(rec.Holders), ", "))}, nil
		}
		return e.release(ctx, rec)
	})
	return res, handled, err
}

// release ends backup mode after the snapshot: DONE lets the snapshot
// command return; Domino ends backup mode database by database, writes
// the deltas and runs the post command, which reports COMPLETE.
func (e *Engine) release(ctx context.Context, rec state.Record) (freeze.Result, error) {
	began := e.clock.Now()
	rec.Phase, rec.Updated = phaseReleasing, began
	if err := e.store.Save(rec); err != nil {
		return freeze.Result{}, err
	}
	data, token := e.data(), rec.Backup.Token
	w, err := newDirWatch(data)
	if err != nil {
		return freeze.Result{}, err
	}
	defer w.Close()
	st, err := e.readStatus()
	if err != nil || !st.Ours(token) || st.State != DominoDone {
		e.finish(rec)
		return freeze.Result{}, &Failure{Cause: fmt.Errorf("backup %s is not waiting for the snapshot any more (status %q): Domino Backup failed or timed out; this snapshot is not restorable", rec.Backup.ID, st.State), Ended: true}
	}
	tasks, _ := e.srv.BackupTasks()
	if len(tasks) == 0 {
		e.finish(rec)
		//lint:ignore ST1005 "Domino Backup" is a product name
		return freeze.Result{}, &Failure{Cause: fmt.Errorf("Domino Backup %s is not running any more (it gave up: see the server console): this snapshot is not restorable", rec.Backup.ID), Ended: true}
	}
	deadline := began.Add(e.set.ReleaseTimeout)
	ended := watchExit(ctx, tasks, deadline)
	e.log.Info("releasing backup mode", zap.String("backup", rec.Backup.ID), zap.Strings("tasks", proc.Names(tasks)))
	st.State, st.Note = Done, "snapshot taken; released by quiesce"
	if err := e.writeStatus(st); err != nil {
		return freeze.Result{}, fmt.Errorf("status file: %w", err)
	}
	err = w.until(ctx, deadline, ended, func() (bool, error) {
		st, err = e.readStatus()
		if err != nil && !errors.Is(err, ErrNoStatus) {
			return false, err
		}
		return st.Ours(token) && st.State == Complete, nil
	})
	switch {
	case errors.Is(err, errTaskEnded):
		e.finish(rec)
		//lint:ignore ST1005 "Domino Backup" is a product name
		return freeze.Result{}, &Failure{Cause: fmt.Errorf("Domino Backup %s ended without completing (see the server console): this snapshot is not restorable", rec.Backup.ID), Ended: true}
	case err != nil:
		return freeze.Result{}, &Failure{Cause: fmt.Errorf("backup mode did not end within %s: %w", e.set.ReleaseTimeout, err)}
	}
	var n int
	var derr error
	_ = e.files(func() error { n, derr = e.countDeltas(st.Deltas); return nil })
	e.finish(rec)
	took := e.clock.Now().Sub(began)
	res := freeze.Result{Outcome: freeze.Released, Window: window(rec.Backup.InMode, began),
		Message: fmt.Sprintf("domino online: backup mode ended in %s; %d delta files of Domino Backup %s in %s (restore needs them with this snapshot)", secs(took), n, rec.Backup.ID, st.Deltas)}
	if derr != nil {
		res.Warnings = append(res.Warnings, derr.Error())
	}
	e.log.Info("backup mode ended", zap.String("backup", rec.Backup.ID), zap.String("deltas", st.Deltas), zap.Int("delta_files", n), zap.Duration("took", took))
	return res, nil
}

// finish forgets the online freeze and its status file.
func (e *Engine) finish(rec state.Record) {
	e.removeStatus(rec.Backup.Token)
	if err := e.store.Clear(TargetName); err != nil {
		e.log.Error("cannot clear the online state", zap.Error(err))
	}
}

// countDeltas counts the .DELTA files Domino wrote, reading only inside
// the configured delta directory (the path comes from a file the Domino
// user writes).
func (e *Engine) countDeltas(dir string) (int, error) {
	if dir == "" || !filepath.IsAbs(dir) {
		return 0, fmt.Errorf("the post command reported no delta directory: check BackupPostCommand in dominobackup.nsf")
	}
	dir = filepath.Clean(dir)
	if e.set.DeltaDir != "" && !strings.HasPrefix(dir+string(filepath.Separator), filepath.Clean(e.set.DeltaDir)+string(filepath.Separator)) {
		return 0, fmt.Errorf("the reported delta directory %s is outside the configured delta_dir %s: not checked", dir, e.set.DeltaDir)
	}
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.HasSuffix(d.Name(), ".DELTA") {
			n++
		}
		return nil
	})
	if err == nil && n == 0 {
		err = fmt.Errorf("no .DELTA files in %s", dir)
	}
	return n, err
}

// settleFirst ends an online freeze whose owner died mid-way or whose
// deadline passed, before anything new happens.
func (e *Engine) settleFirst(ctx context.Context, rec state.Record, who string) state.Record {
	if rec.Backup == nil {
		return rec
	}
	expired := !rec.Deadline.IsZero() && e.clock.Now().After(rec.Deadline)
	if rec.Phase == phaseInMode && !expired {
		return rec
	}
	next, _, _ := e.settle(ctx, rec, false, who)
	return next
}

// settle ends the online freeze rec describes: at boot it is gone with the
// server; otherwise the backup is cancelled (no thaw was seen: the
// snapshot, if any, is not vouched for) and its holders remembered for a
// late thaw. failed is set when the backup task outlived the cancel (what
// monitoring counts as a failed recovery).
func (e *Engine) settle(ctx context.Context, rec state.Record, boot bool, who string) (next state.Record, msg string, failed error) {
	if rec.Backup == nil {
		return rec, "nothing to recover", nil
	}
	msg = fmt.Sprintf("online freeze by %s (Domino Backup %s) ended by %s", strings.Join(names(rec.Holders), ", "), rec.Backup.ID, who)
	if boot {
		e.removeStatus(rec.Backup.Token)
		msg = "online freeze from before the reboot discarded (the server restarted: no backup mode left)"
	} else {
		e.log.Error("online freeze ended without a thaw: cancelling the backup", zap.String("by", who), zap.String("phase", rec.Phase),
			zap.Strings("never_thawed", names(rec.Holders)), zap.Time("deadline", rec.Deadline))
		if !e.cancel(ctx, rec, "ended by "+who+": no thaw came") {
			msg += "; the backup task still runs"
			failed = errors.New("the backup task still runs after the cancel")
		}
	}
	next = state.Record{Version: state.Version, Target: TargetName, Updated: e.clock.Now()}
	if rec.Phase == phaseInMode { // their freeze had succeeded: their thaw is late
		next.Expired, next.ExpiredAt = rec.Holders, e.clock.Now()
	}
	if err := e.store.Save(next); err != nil {
		e.log.Error("cannot save the online state", zap.Error(err))
	}
	return next, msg, failed
}

// Recover settles an online freeze that is interrupted or expired (every
// one, with boot).
func (e *Engine) Recover(ctx context.Context, boot bool) (string, error) {
	return e.recover(ctx, boot, freeze.OpRecover)
}

// MetricsCaller is the caller an online freeze's end by the watchdog or by
// "quiesce recover" is reported under (op "watchdog" or "recover"): the
// stop engine reports its own recover and watchdog actions of the same
// target as callers "recover" and "watchdog".
const MetricsCaller = "online"

// recover is Recover by "recover" or "watchdog" (op). An online freeze it
// ends (not one a reboot already ended) is reported to the context's
// Observer (monitoring), after the lock is released.
func (e *Engine) recover(ctx context.Context, boot bool, op string) (string, error) {
	var msg string
	var ended *freeze.Event
	_, err := e.locked(ctx, "online "+op, func(rec state.Record) (freeze.Result, error) {
		expired := !rec.Deadline.IsZero() && e.clock.Now().After(rec.Deadline)
		switch {
		case rec.Backup == nil:
			msg = "no online freeze"
		case boot || expired || rec.Phase != phaseInMode:
			began := e.clock.Now()
			var failed error
			_, msg, failed = e.settle(ctx, rec, boot, op)
			if !boot {
				res := freeze.Result{Outcome: freeze.Released, Took: e.clock.Now().Sub(began)}
				ev := freeze.EventOf(op, domino.TargetName, MetricsCaller, res, failed, e.clock.Now())
				ended = &ev
			}
		default:
			msg = fmt.Sprintf("in backup mode for %s until %s", strings.Join(names(rec.Holders), ", "), rec.Deadline.Format(time.RFC3339))
		}
		return freeze.Result{}, nil
	})
	if ended != nil {
		freeze.Notify(ctx, *ended)
	}
	return msg, err
}

// Watch is the online watchdog: it ends backup mode at the freeze's
// deadline if no thaw came first, waking on changes of the state
// directory and at the deadline, never on a timer of its own.
func (e *Engine) Watch(ctx context.Context) error {
	w, err := newDirWatch(e.store.Dir())
	if err != nil {
		return err
	}
	defer w.Close()
	for {
		rec, err := e.store.Load(TargetName)
		if err != nil {
			return err
		}
		if rec.Backup == nil {
			e.log.Info("online watchdog done: nothing left to guard")
			return nil
		}
		// A freeze or thaw under way holds the lock: Recover waits for it
		// and settles only what its owner left behind if it died.
		if rec.Phase != phaseInMode || !e.clock.Now().Before(rec.Deadline) {
			if _, err := e.recover(ctx, false, freeze.OpWatchdog); err != nil && !errors.Is(err, state.ErrLocked) {
				return err
			}
			continue
		}
		if !w.next(ctx, rec.Deadline) && ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

func lateHolder(rec state.Record, c freeze.Caller) bool {
	for _, h := range rec.Expired {
		if h.Caller == c.Name {
			return true
		}
	}
	return false
}

func without(hs []state.Holder, c freeze.Caller) []state.Holder {
	key := holder(c, time.Time{}).Key()
	exact := false
	for _, h := range hs {
		exact = exact || h.Key() == key
	}
	var out []state.Holder
	for _, h := range hs {
		if (exact && h.Key() == key) || (!exact && h.Caller == c.Name) {
			continue
		}
		out = append(out, h)
	}
	return out
}

func names(hs []state.Holder) []string {
	var out []string
	for _, h := range hs {
		n := h.Caller
		if h.Job != "" {
			n += " (job " + h.Job + ")"
		}
		out = append(out, n)
	}
	return out
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

// window is how long backup mode held, from every database in backup mode
// to the thaw; zero when unknown.
func window(inMode, thaw time.Time) time.Duration {
	if inMode.IsZero() {
		return 0
	}
	return max(thaw.Sub(inMode), 0)
}
