package online

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/manifest"
	"github.com/quiesce/quiesce/core/proc"
	"github.com/quiesce/quiesce/core/runas"
	"github.com/quiesce/quiesce/core/state"
)

// Name is the method's name in records, logs and metrics.
const Name = state.LegacyBackupMethod

// Settings are the online method's limits.
type Settings struct {
	EnterTimeout   time.Duration // all databases in backup mode by then, else the freeze fails
	MaxWindow      time.Duration // backup mode never lasts longer (below the 120 s of HCL's scripts)
	ReleaseTimeout time.Duration // thaw: backup mode ended and deltas written by then
	TaskWait       time.Duration // the backup task must appear by then after "load backup -s"
	DeltaDir       string        // BackupTargetDirDb as configured in dominobackup.nsf; "" when not told
}

// DefaultSettings: HCL's scripts allow 120 s to enter backup mode, and
// wait 120 s for the snapshot; the window ends before.
var DefaultSettings = Settings{EnterTimeout: 120 * time.Second, MaxWindow: 100 * time.Second,
	ReleaseTimeout: 120 * time.Second, TaskWait: 10 * time.Second}

// Server is what the method needs of the Domino server (*domino.Server).
type Server interface {
	Config() config.File
	Account() runas.Account
	// Probe reports, in one scan, whether the main server process runs and
	// which Domino Backup tasks do.
	Probe() (main bool, tasks []proc.Proc, err error)
	BackupTasks() ([]proc.Proc, error)
	Console(ctx context.Context, limit time.Duration, cmd string) error
}

var _ Server = (*domino.Server)(nil)

// Method freezes one Domino server online: every database in Domino
// Backup's backup mode, no outage.
type Method struct {
	srv   Server
	set   Settings
	log   *zap.Logger
	clock clock.Clock
}

var _ freeze.Method = (*Method)(nil)

// New returns the online method of srv.
func New(srv Server, set Settings, log *zap.Logger, c clock.Clock) *Method {
	return &Method{srv: srv, set: set, log: log, clock: c}
}

// Name implements freeze.Method.
func (e *Method) Name() string { return Name }

// Settings are the method's limits.
func (e *Method) Settings() Settings { return e.set }

// data is what the method keeps in the record: the backup quiesce
// requested, and the identity that ties Domino Backup's status file to it
// (version 1's field names).
type data struct {
	Token     string    `json:"token"`                // random; the status file must carry it
	ID        string    `json:"id,omitempty"`         // Domino's BackupStartDT, once reported
	Requested time.Time `json:"requested"`            // when quiesce asked for backup mode
	InMode    time.Time `json:"in_mode,omitempty"`    // when every database was in backup mode
	Window    time.Time `json:"window_end,omitempty"` // backup mode must end by then (backup_max_window)
}

func backupOf(r *freeze.Run) data {
	var d data
	_ = r.Data(&d)
	return d
}

func (e *Method) data() string { return e.srv.Config().Data }

// Configured reports whether Domino Backup is set up on this server
// (dominobackup.nsf exists in the data directory).
func (e *Method) Configured() bool {
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

// Unwrap gives the cause and, once Domino Backup is over, that the
// server is as it was (freeze.ErrUnchanged): auto may fall back to a stop.
func (f *Failure) Unwrap() []error {
	if f.Ended {
		return []error{f.Cause, freeze.ErrUnchanged}
	}
	return []error{f.Cause}
}

// ErrNotUsable: Domino Backup is not set up on this server.
var ErrNotUsable = errors.New("Domino Backup is not set up (no dominobackup.nsf in the data directory)") //lint:ignore ST1005 product name

// Plan implements freeze.Method: how long the freeze may wait for backup
// mode within c's limit, and how long the thaw waits for it to end.
func (e *Method) Plan(c freeze.Caller) freeze.Plan {
	f := FitCaller(c, e.set)
	return freeze.Plan{Method: Name, Budget: c.Budget, Hard: c.Hard, Cycle: c.Cycle, Margin: f.Margin, Worst: f.Enter,
		TooTight: !f.Fits, ThawLimit: c.Thaw, ThawWorst: e.set.ReleaseTimeout, Start: e.set.ReleaseTimeout}
}

// Check implements freeze.Method: the server must run, Domino Backup be
// set up and no backup task of someone else's run.
func (e *Method) Check(ctx context.Context, c freeze.Caller) (freeze.Result, bool, error) {
	main, tasks, err := e.srv.Probe() // one scan for both
	switch {
	case err != nil:
		return freeze.Result{}, false, &Failure{Cause: err, Ended: true}
	case !main:
		return freeze.Result{}, false, fmt.Errorf("%w: nothing to put into backup mode", freeze.ErrNotRunning)
	case !e.Configured():
		return freeze.Result{}, false, fmt.Errorf("%w: see docs/online.md", freeze.NotUsable(ErrNotUsable))
	case len(tasks) > 0:
		return freeze.Result{}, false, &Failure{Cause: fmt.Errorf("a Domino Backup task runs already (%s): quiesce does not share a backup it did not start", strings.Join(proc.Names(tasks), ", ")), Ended: true}
	}
	return freeze.Result{}, true, nil
}

// Deadline implements freeze.Method: backup mode ends at the caller's
// budget, never later than its window (backup_max_window).
func (e *Method) Deadline(r *freeze.Run, c freeze.Caller, now time.Time) time.Time {
	d := now.Add(e.set.MaxWindow)
	if c.Budget > 0 && now.Add(c.Budget).Before(d) {
		d = now.Add(c.Budget)
	}
	if b := backupOf(r); !b.Window.IsZero() && b.Window.Before(d) {
		d = b.Window
	}
	return d
}

// Describe implements freeze.Method.
func (e *Method) Describe(r *freeze.Run) string {
	return fmt.Sprintf("in backup mode (Domino Backup %s)", backupOf(r).ID)
}

// Late implements freeze.Method.
func (e *Method) Late() (string, string) { return "backup mode was ended", "is not restorable" }

// Holds implements freeze.Method: Domino Backup must still be waiting for
// the snapshot, every database in backup mode.
func (e *Method) Holds(ctx context.Context, r *freeze.Run) error {
	b := backupOf(r)
	st, err := e.readStatus()
	switch {
	case err != nil && !errors.Is(err, ErrNoStatus):
		return err
	case !st.Ours(b.Token) || st.State != DominoDone:
		//lint:ignore ST1005 "Domino Backup" is a product name
		return fmt.Errorf("Domino Backup %s is no longer waiting for the snapshot (status %q)", b.ID, st.State)
	}
	if tasks, err := e.srv.BackupTasks(); err != nil || len(tasks) == 0 {
		//lint:ignore ST1005 "Domino Backup" is a product name
		return fmt.Errorf("Domino Backup %s is not running any more", b.ID)
	}
	return nil
}

// files runs fn as the Domino user (runas.Files): the status file, the
// tag files and the deltas live in directories that user controls, and a
// link planted there must reach nothing that user could not.
func (e *Method) files(fn func() error) error { return runas.Files(e.srv.Account(), fn) }

// readStatus reads the status file as the Domino user.
func (e *Method) readStatus() (st Status, err error) {
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
func (e *Method) writeStatus(st Status) error {
	return e.files(func() error { return WriteStatus(e.data(), st) })
}

// removeStatus removes the status file, as the Domino user, if it is
// still token's.
func (e *Method) removeStatus(token string) {
	_ = e.files(func() error { RemoveStatus(e.data(), token); return nil })
}

// Enter implements freeze.Method: it asks Domino Backup for a snapshot
// backup and waits, on status file events and the backup task's exit,
// until every database is in backup mode.
func (e *Method) Enter(ctx context.Context, r *freeze.Run, c freeze.Caller) (freeze.Result, error) {
	now := r.Rec.Since
	b := data{Token: NewToken(), Requested: now, Window: now.Add(e.set.MaxWindow)}
	r.SetData(b)
	if err := r.Save(); err != nil {
		return freeze.Result{}, err
	}
	st, err := e.request(ctx, b.Token, earliest(e.enterBy(c, now), r.Rec.Deadline))
	if err != nil {
		return freeze.Result{}, err
	}
	id := st.Backup
	inMode := e.clock.Now()
	b.ID, b.InMode = id, inMode
	r.SetData(b)
	e.log.Info("all databases in backup mode", zap.String("backup", id), zap.Duration("after", inMode.Sub(now)), zap.Time("deadline", r.Rec.Deadline))
	res := freeze.Result{Outcome: freeze.BackupMode,
		Message: fmt.Sprintf("domino online: every database in backup mode in %s (Domino Backup %s); no outage, backup mode ends at the thaw or by %s",
			secs(inMode.Sub(now)), id, r.Rec.Deadline.Format("15:04:05"))}
	res.Warnings = e.prove(r, c, st)
	return res, nil
}

// location is where the snapshot manifest goes: the data directory,
// written as the Domino user, listing the databases.
func (e *Method) location() manifest.Location {
	return manifest.Location{Dir: e.data(), Account: e.srv.Account(), Data: domino.IsDatabase}
}

// prove writes the snapshot manifest (core/manifest): every database in
// backup mode of this backup, whose tag file is in place, and where its
// deltas will be. The databases keep changing in backup mode: the
// manifest's sizes and times say which ones changed after it, and those
// need their deltas. A manifest that cannot be written is a warning.
func (e *Method) prove(r *freeze.Run, c freeze.Caller, st Status) []string {
	m := manifest.Freeze(r, Name, c, fmt.Sprintf("every database in backup mode (Domino Backup %s reported DOMINO-DONE; tag file %s written and flushed)", st.Backup, TagName(st.Backup)))
	m.Backup, m.Deltas = st.Backup, st.Deltas
	if err := e.location().Take(m, e.clock.Now()); err != nil {
		return []string{fmt.Sprintf("no snapshot manifest written (%v): quiesce verify cannot judge this snapshot", err)}
	}
	return nil
}

// unprove removes the manifest from the live data directory: the freeze
// is over, a copy taken now must not carry it.
func (e *Method) unprove() {
	if err := e.location().Remove(); err != nil {
		e.log.Warn("cannot remove the snapshot manifest", zap.Error(err))
	}
}

// request writes REQUESTED, loads the backup task and waits for
// DOMINO-DONE with this token. It returns that status: Domino's backup
// identity and where its deltas go.
func (e *Method) request(ctx context.Context, token string, deadline time.Time) (Status, error) {
	wait := deadline.Sub(e.clock.Now())
	data := e.data()
	w, err := newDirWatch(data)
	if err != nil {
		return Status{}, &Failure{Cause: err, Ended: true}
	}
	defer w.Close()
	if err := e.writeStatus(Status{State: Requested, Token: token, Note: "requested by quiesce"}); err != nil {
		return Status{}, &Failure{Cause: fmt.Errorf("status file: %w", err), Ended: true}
	}
	if err := e.srv.Console(ctx, 30*time.Second, "load backup -s"); err != nil {
		return Status{}, &Failure{Cause: fmt.Errorf("console command \"load backup -s\": %w", err), Ended: true}
	}
	tasks, err := e.awaitTask(ctx, w, earliest(deadline, e.clock.Now().Add(e.set.TaskWait)))
	if err != nil {
		return Status{}, err
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
		return Status{}, &Failure{Cause: fmt.Errorf("Domino Backup ended before every database was in backup mode (see the server console)"), Ended: true}
	case errors.Is(err, errTimeout):
		return Status{}, &Failure{Cause: fmt.Errorf("not every database was in backup mode within %s", wait.Round(time.Second))}
	case err != nil:
		return Status{}, &Failure{Cause: err}
	}
	return st, nil
}

// awaitTask waits until the backup task runs, re-scanning on every change
// in the data directory (the task's own files and the console log).
func (e *Method) awaitTask(ctx context.Context, w *dirWatch, deadline time.Time) ([]proc.Proc, error) {
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

// Abort implements freeze.Method: CANCELLED makes a pending snapshot start
// command fail the backup, which ends backup mode; it waits (bounded)
// until the backup task is gone and forgets the freeze.
func (e *Method) Abort(ctx context.Context, r *freeze.Run, c freeze.Caller, cause error) (freeze.Result, error) {
	ended := e.cancel(ctx, r, "freeze failed: "+cause.Error())
	if err := r.Clear(); err != nil {
		e.log.Error("cannot clear the online state", zap.Error(err))
	}
	var f *Failure
	if !errors.As(cause, &f) {
		f = &Failure{Cause: cause}
	}
	f.Ended = f.Ended || ended
	return freeze.Result{}, &freeze.FreezeError{Cause: f}
}

// cancel tells Domino Backup no snapshot will come and waits until its
// task is gone; it reports whether it is.
func (e *Method) cancel(ctx context.Context, r *freeze.Run, why string) bool {
	e.unprove()
	b := backupOf(r)
	if st, err := e.readStatus(); err == nil && st.Ours(b.Token) && st.State != Complete {
		st.State, st.Note = Cancelled, oneLine(why)
		if err := e.writeStatus(st); err != nil {
			e.log.Error("cannot cancel through the status file", zap.Error(err))
		}
	}
	tasks, _ := e.srv.BackupTasks()
	left := proc.Wait(context.WithoutCancel(ctx), tasks, e.clock.Now().Add(e.set.ReleaseTimeout))
	e.removeStatus(b.Token)
	if len(left) > 0 {
		e.log.Error("the backup task is still running after the cancel", zap.Strings("tasks", proc.Names(left)))
		return false
	}
	return true
}

// Leave implements freeze.Method: DONE lets the snapshot command return;
// Domino ends backup mode database by database, writes the deltas and
// runs the post command, which reports COMPLETE.
func (e *Method) Leave(ctx context.Context, r *freeze.Run, _ freeze.Bound) (freeze.Result, error) {
	b := backupOf(r)
	e.unprove()
	if !r.Rec.Owed {
		e.removeStatus(b.Token)
		return freeze.Result{Outcome: freeze.NothingToThaw, Message: "online freeze ended by hand (" + r.Rec.Disowned + "); nothing to release"}, r.Clear()
	}
	began := e.clock.Now()
	r.Rec.Phase = state.PhaseLeaving
	if err := r.Save(); err != nil {
		return freeze.Result{}, err
	}
	w, err := newDirWatch(e.data())
	if err != nil {
		return freeze.Result{}, err
	}
	defer w.Close()
	st, err := e.readStatus()
	if err != nil || !st.Ours(b.Token) || st.State != DominoDone {
		e.finish(r)
		return freeze.Result{}, &Failure{Cause: freeze.NotQuiesced(fmt.Errorf("backup %s is not waiting for the snapshot any more (status %q): Domino Backup failed or timed out; this snapshot is not restorable", b.ID, st.State)), Ended: true}
	}
	tasks, _ := e.srv.BackupTasks()
	if len(tasks) == 0 {
		e.finish(r)
		//lint:ignore ST1005 "Domino Backup" is a product name
		return freeze.Result{}, &Failure{Cause: freeze.NotQuiesced(fmt.Errorf("Domino Backup %s is not running any more (it gave up: see the server console): this snapshot is not restorable", b.ID)), Ended: true}
	}
	deadline := began.Add(e.set.ReleaseTimeout)
	ended := watchExit(ctx, tasks, deadline)
	e.log.Info("releasing backup mode", zap.String("backup", b.ID), zap.Strings("tasks", proc.Names(tasks)))
	st.State, st.Note = Done, "snapshot taken; released by quiesce"
	if err := e.writeStatus(st); err != nil {
		return freeze.Result{}, fmt.Errorf("status file: %w", err)
	}
	err = w.until(ctx, deadline, ended, func() (bool, error) {
		st, err = e.readStatus()
		if err != nil && !errors.Is(err, ErrNoStatus) {
			return false, err
		}
		return st.Ours(b.Token) && st.State == Complete, nil
	})
	switch {
	case errors.Is(err, errTaskEnded):
		e.finish(r)
		//lint:ignore ST1005 "Domino Backup" is a product name
		return freeze.Result{}, &Failure{Cause: freeze.NotQuiesced(fmt.Errorf("Domino Backup %s ended without completing (see the server console): this snapshot is not restorable", b.ID)), Ended: true}
	case err != nil:
		return freeze.Result{}, &Failure{Cause: fmt.Errorf("backup mode did not end within %s: %w", e.set.ReleaseTimeout, err)}
	}
	var n int
	var derr error
	_ = e.files(func() error { n, derr = e.countDeltas(st.Deltas); return nil })
	e.finish(r)
	took := e.clock.Now().Sub(began)
	res := freeze.Result{Outcome: freeze.Released,
		Message: fmt.Sprintf("domino online: backup mode ended in %s; %d delta files of Domino Backup %s in %s (restore needs them with this snapshot)", secs(took), n, b.ID, st.Deltas)}
	if derr != nil {
		res.Warnings = append(res.Warnings, derr.Error())
	}
	e.log.Info("backup mode ended", zap.String("backup", b.ID), zap.String("deltas", st.Deltas), zap.Int("delta_files", n), zap.Duration("took", took))
	return res, nil
}

// finish forgets the online freeze and its status file.
func (e *Method) finish(r *freeze.Run) {
	e.removeStatus(backupOf(r).Token)
	if err := r.Clear(); err != nil {
		e.log.Error("cannot clear the online state", zap.Error(err))
	}
}

// countDeltas counts the .DELTA files Domino wrote, reading only inside
// the configured delta directory (the path comes from a file the Domino
// user writes).
func (e *Method) countDeltas(dir string) (int, error) {
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

// Settle implements freeze.Method: at boot the online freeze is gone with
// the server; otherwise the backup is cancelled (no thaw was seen: the
// snapshot, if any, is not vouched for). A backup task that outlives the
// cancel is an error (what monitoring counts as a failed recovery); the
// freeze is forgotten either way.
func (e *Method) Settle(ctx context.Context, r *freeze.Run, why freeze.Why) (freeze.Result, error) {
	b := backupOf(r)
	res := freeze.Result{Outcome: freeze.Released, Message: fmt.Sprintf("online freeze (Domino Backup %s) ended by %s", b.ID, r.Who)}
	if why == freeze.Boot {
		e.unprove()
		e.removeStatus(b.Token)
		res.Message = "online freeze from before the reboot discarded (the server restarted: no backup mode left)"
		return res, nil
	}
	e.log.Error("online freeze ended without a thaw: cancelling the backup", zap.String("by", r.Who), zap.String("phase", r.Rec.Phase),
		zap.Strings("expired", names(r.Rec.Expired)), zap.Time("deadline", r.Rec.Deadline))
	if !e.cancel(ctx, r, "ended by "+r.Who+": no thaw came") {
		if err := r.Clear(); err != nil {
			e.log.Error("cannot clear the online state", zap.Error(err))
		}
		return res, errors.New("the backup task still runs after the cancel")
	}
	return res, nil
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

// Backup is what status shows of an online freeze's record: Domino's
// backup identity, when every database was in backup mode, and when
// backup mode ends at the latest; ok is false for a record of another
// method.
func Backup(rec state.Record) (id string, inMode, windowEnd time.Time, ok bool) {
	if rec.Method != Name {
		return "", time.Time{}, time.Time{}, false
	}
	var d data
	_ = json.Unmarshal(rec.Data, &d)
	return d.ID, d.InMode, d.Window, true
}
