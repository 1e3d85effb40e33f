package holder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/proc"
	"github.com/quiesce/quiesce/core/runas"
	"github.com/quiesce/quiesce/core/state"
)

// Driver is what a database kind gives the method.
type Driver interface {
	// Kind names the kind, and the Lock its holders take.
	Kind() string
	// Server names the server in messages ("MariaDB", "PostgreSQL").
	Server() string
	// Socket is where the server listens: nothing there, not running.
	Socket() string
	// Conn is the connection settings a holder gets (with a password
	// read from the credentials file); wait is how long it may wait for
	// the lock.
	Conn(wait time.Duration) (json.RawMessage, error)
	// Held says what an acquisition did, for the freeze's message.
	Held(f Facts) string
	// Describe says in a few words what holds the server ("in BACKUP
	// STAGE BLOCK_COMMIT").
	Describe(f Facts) string
	// Released finishes a release (PostgreSQL keeps pg_backup_stop's
	// label files) and says what it did.
	Released(r *freeze.Run, acquired, released Facts) (msg string, warnings []string, err error)
}

// Settings are a database freeze's limits and how its holders run.
type Settings struct {
	Name           string         // the method's name
	Account        *runas.Account // the OS user holders run as; nil: quiesce's own
	Launcher       Launcher
	EnterTimeout   time.Duration // the lock within this (less when the caller's budget is shorter)
	MaxHold        time.Duration // a hold never lasts longer
	ReleaseTimeout time.Duration // a thaw waits this long for the release
	Heartbeat      time.Duration // the holder checks its session this often; 0: DefaultHeartbeat
	Policy         freeze.Policy // the session's: a freeze's window bounds the wait for the lock
}

// MinEnter is the shortest wait for the lock worth attempting.
const MinEnter = time.Second

// endGrace is how long after the freeze's deadline a holder ends the
// hold by itself: the watchdog ends it at the deadline; this is for a
// watchdog that is gone.
const endGrace = 15 * time.Second

// waitGrace is how long the freeze waits past the holder's own limit for
// its answer before it kills it: starting the process and connecting.
const waitGrace = 2 * time.Second

// Method freezes a database server online: its holder takes the
// server's backup lock and keeps it from the freeze to the thaw.
type Method struct {
	set   Settings
	drv   Driver
	log   *zap.Logger
	clock clock.Clock
}

var _ freeze.Method = (*Method)(nil)

// New returns the method for drv.
func New(drv Driver, set Settings, log *zap.Logger, c clock.Clock) *Method {
	if set.Heartbeat <= 0 {
		set.Heartbeat = DefaultHeartbeat
	}
	if set.Policy.DefaultWindow == 0 {
		set.Policy.DefaultWindow = time.Hour // as the session's
	}
	return &Method{set: set, drv: drv, log: log, clock: c}
}

// Name implements freeze.Method.
func (m *Method) Name() string { return m.set.Name }

// Settings are the method's limits.
func (m *Method) Settings() Settings { return m.set }

// Driver is the method's database kind.
func (m *Method) Driver() Driver { return m.drv }

// data is what the method keeps in the record.
type data struct {
	PID       int32     `json:"holder_pid,omitempty"`
	Start     int64     `json:"holder_start,omitempty"` // with PID, the holder's identity
	Socket    string    `json:"socket,omitempty"`       // its control socket
	Requested time.Time `json:"requested"`
	Limit     time.Time `json:"limit"` // the hold ends by then at the latest
	Acquired  time.Time `json:"acquired,omitempty"`
	Session   string    `json:"session,omitempty"`
	Held      bool      `json:"held,omitempty"` // a holder keeps the lock until the thaw
	Facts     Facts     `json:"facts,omitempty"`
}

func dataOf(r *freeze.Run) data {
	var d data
	_ = r.Data(&d)
	return d
}

// Facts are what the freeze in rec recorded of its lock (a binary log
// position, the backup's start); ok is false for another method's record.
func (m *Method) Facts(rec state.Record) (Facts, bool) {
	if rec.Method != m.set.Name {
		return nil, false
	}
	var d data
	_ = json.Unmarshal(rec.Data, &d)
	return d.Facts, true
}

// Failure is a database freeze that did not take its lock: nothing is
// held, the server serves on. Fallback: auto may stop the server instead
// (the lock was not granted in time, the server cannot freeze this way);
// never for refused credentials or an unexpected error.
type Failure struct {
	Server   string
	Cause    error
	Fallback bool
}

func (f *Failure) Error() string {
	return fmt.Sprintf("%v; nothing is held, %s serves on as before", f.Cause, f.Server)
}

// Unwrap gives the cause, that the freeze failed, and whether the server
// is as it was for a fallback (freeze.ErrUnchanged).
func (f *Failure) Unwrap() []error {
	errs := []error{freeze.ErrFreezeFailed, f.Cause}
	if f.Fallback {
		errs = append(errs, freeze.ErrUnchanged)
	}
	return errs
}

// SuspectError is a thaw that cannot vouch for the snapshot: the lock
// was not held throughout (the holder or its session was lost).
type SuspectError struct {
	Server string
	Why    string
}

func (e *SuspectError) Error() string {
	return fmt.Sprintf("the snapshot is SUSPECT: %s; the %s lock did not hold until the thaw, so the snapshot is at best crash-consistent (the server itself is unaffected)", e.Why, e.Server)
}

// Unwrap: the thaw failed, and the snapshot is not quiesced (monitoring
// counts it so).
func (e *SuspectError) Unwrap() []error { return []error{freeze.ErrThawFailed, freeze.ErrNotQuiesced} }

// margin is what a freeze keeps free of a caller's budget to give up
// and answer: a fifth of it, 2 s to 30 s.
func margin(budget time.Duration) time.Duration {
	return min(max(budget/5, 2*time.Second), 30*time.Second)
}

// enterWait is how long a freeze by c may wait for the lock: within its
// enter_timeout, the caller's budget less a margin to give up and
// answer, and its window less what the snapshot needs (freeze.MinHold).
func (m *Method) enterWait(c freeze.Caller) time.Duration {
	window := min(m.set.Policy.Window(c), m.set.MaxHold)
	wait := min(m.set.EnterTimeout, window-freeze.MinHold(window))
	if c.Budget > 0 {
		avail := c.Budget - margin(c.Budget)
		if c.Cycle {
			avail -= c.Snapshot + c.Thaw
		}
		wait = min(wait, max(avail, 0))
	}
	return wait
}

// Plan implements freeze.Method: the wait for the lock within c's
// limit, and the wait for its release.
func (m *Method) Plan(c freeze.Caller) freeze.Plan {
	wait := m.enterWait(c)
	p := freeze.Plan{Method: m.set.Name, Budget: c.Budget, Hard: c.Hard, Cycle: c.Cycle, Snapshot: c.Snapshot, Worst: wait + waitGrace,
		TooTight: wait < MinEnter, Capped: wait < m.set.EnterTimeout, ThawLimit: c.Thaw, ThawWorst: m.set.ReleaseTimeout,
		Start: m.set.ReleaseTimeout, Configured: m.set.EnterTimeout, Graceful: wait}
	if c.Budget > 0 {
		p.Margin = margin(c.Budget)
	}
	p.Capped = false // a shorter wait for the lock is not a problem: it fits or it is TooTight
	return p
}

// Hold is how long a freeze by c holds the lock at the longest: until
// the thaw, the caller's window, or the method's own limit.
func (m *Method) Hold(window time.Duration) time.Duration { return min(window, m.set.MaxHold) }

// Check implements freeze.Method: a holder can be started, and a server
// listens on the socket.
func (m *Method) Check(ctx context.Context, c freeze.Caller) (freeze.Result, bool, error) {
	switch {
	case runtime.GOOS == "windows":
		return freeze.Result{}, false, freeze.NotUsable(fmt.Errorf("%s online freezes are not available on Windows", m.drv.Server()))
	case m.set.Launcher.Path == "":
		return freeze.Result{}, false, freeze.NotUsable(errors.New("no quiesce binary to start the lock's holder from"))
	}
	if err := m.listening(ctx); err != nil {
		return freeze.Result{}, false, err
	}
	return freeze.Result{}, true, nil
}

// listening reports, as ErrNotRunning, when no server listens on the
// socket.
func (m *Method) listening(ctx context.Context) error {
	sock := m.drv.Socket()
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := d.DialContext(dctx, "unix", sock)
	if err == nil {
		return conn.Close()
	}
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("%w: no %s server listens on %s", freeze.ErrNotRunning, m.drv.Server(), sock)
	}
	return nil // the holder's connection will say what is wrong
}

// Deadline implements freeze.Method: a hold never outlasts MaxHold from
// its freeze.
func (m *Method) Deadline(r *freeze.Run, c freeze.Caller, now time.Time) time.Time {
	d := now.Add(m.set.MaxHold)
	if l := dataOf(r).Limit; !l.IsZero() && l.Before(d) {
		d = l
	}
	return d
}

// Describe implements freeze.Method.
func (m *Method) Describe(r *freeze.Run) string { return m.drv.Describe(dataOf(r).Facts) }

// Late implements freeze.Method.
func (m *Method) Late() (string, string) {
	return "the " + m.drv.Server() + " lock was released", "is at best crash-consistent"
}

// socket is the control socket of the instance's holder.
func socket(r *freeze.Run) string { return filepath.Join(r.Store().Dir(), r.Key()+".hold") }

// Enter implements freeze.Method: a holder takes the lock, and the
// freeze returns once it holds it.
func (m *Method) Enter(ctx context.Context, r *freeze.Run, c freeze.Caller) (freeze.Result, error) {
	now := m.clock.Now()
	d := data{Requested: now, Limit: r.Rec.Since.Add(m.set.MaxHold)}
	by := now.Add(m.enterWait(c))
	if by.After(r.Rec.Deadline) {
		by = r.Rec.Deadline
	}
	conn, err := m.drv.Conn(by.Sub(now))
	if err != nil {
		return freeze.Result{}, &Failure{Server: m.drv.Server(), Cause: err}
	}
	spec := Spec{Kind: m.drv.Kind(), Op: OpHold, Instance: r.Instance().Name, Conn: conn, AcquireBy: by,
		EndBy: d.Limit.Add(endGrace), Heartbeat: m.set.Heartbeat}
	h, err := m.set.Launcher.Start(spec, m.set.Account, socket(r))
	if err != nil {
		return freeze.Result{}, &Failure{Server: m.drv.Server(), Cause: err, Fallback: true}
	}
	d.PID, d.Start, d.Socket = h.Proc.PID, h.Proc.Start, h.Socket
	r.SetData(d)
	if err := r.Save(); err != nil { // from here on a kill leaves the holder to Settle
		h.Kill()
		return freeze.Result{}, err
	}
	a, err := h.Wait(ctx, by.Add(waitGrace))
	if err != nil {
		var ae *AcquireError
		fallback := errors.As(err, &ae) && ae.Class != ClassAuth && ae.Class != ClassOther
		return freeze.Result{}, &Failure{Server: m.drv.Server(), Cause: err, Fallback: fallback}
	}
	d.Acquired, d.Facts, d.Session, d.Held = a.At, a.Facts, a.Facts[FactSession], a.Facts[FactHold] != HoldNone
	if !d.Held {
		m.removeSocket(d)
		d.PID, d.Start, d.Socket = 0, 0, "" // nothing to end: the holder is gone
	}
	r.SetData(d)
	fields := []zap.Field{zap.String("method", m.set.Name), zap.Int32("holder_pid", d.PID), zap.Float64("took_ms", a.Took), zap.Time("limit", d.Limit)}
	for k, v := range a.Facts {
		fields = append(fields, zap.String(k, v))
	}
	m.log.Info("database lock taken", fields...)
	return freeze.Result{Outcome: freeze.BackupMode, Message: m.drv.Held(a.Facts), Warnings: warnings(a.Facts)}, nil
}

func warnings(f Facts) []string {
	if w := f[FactWarning]; w != "" {
		return []string{w}
	}
	return nil
}

// Abort implements freeze.Method: the holder (if any) ends its session,
// and the freeze is forgotten.
func (m *Method) Abort(ctx context.Context, r *freeze.Run, c freeze.Caller, cause error) (freeze.Result, error) {
	m.end(ctx, dataOf(r), "the freeze failed")
	if err := r.Clear(); err != nil {
		m.log.Error("cannot clear the freeze", zap.Error(err))
	}
	var f *Failure
	if !errors.As(cause, &f) {
		f = &Failure{Server: m.drv.Server(), Cause: cause, Fallback: true}
	}
	return freeze.Result{}, f
}

// end makes sure d's holder no longer holds: asked to release, else
// killed (by its identity: never another process with its PID). It
// returns the holder's report when it answered.
func (m *Method) end(ctx context.Context, d data, why string) (Report, error) {
	defer m.removeSocket(d)
	if d.Socket == "" {
		return Report{}, &GoneError{Err: errors.New("no holder was started")}
	}
	rep, err := Ask(ctx, d.Socket, "release", m.set.ReleaseTimeout)
	if d.PID > 0 {
		p := proc.Proc{PID: d.PID, Start: d.Start}
		if left := proc.Wait(ctx, []proc.Proc{p}, m.clock.Now().Add(3*time.Second)); len(left) > 0 {
			m.log.Error("the holder did not exit after its release: killing it", zap.Int32("holder_pid", d.PID), zap.String("why", why))
			_ = proc.Signal(p, syscall.SIGKILL)
			proc.Wait(ctx, left, m.clock.Now().Add(5*time.Second))
		}
	}
	return rep, err
}

func (m *Method) removeSocket(d data) {
	if d.Socket != "" {
		_ = os.Remove(d.Socket)
	}
}

// Leave implements freeze.Method: the holder releases the lock and
// proves it held it throughout: the same process, the same database
// session, every heartbeat good. Anything less and the snapshot is
// suspect.
func (m *Method) Leave(ctx context.Context, r *freeze.Run, b freeze.Bound) (freeze.Result, error) {
	d := dataOf(r)
	if !r.Rec.Owed {
		m.end(ctx, d, "disowned")
		return freeze.Result{Outcome: freeze.NothingToThaw, Message: "database freeze ended by hand (" + r.Rec.Disowned + "); nothing to release"}, r.Clear()
	}
	if !d.Held {
		msg, warns, err := m.drv.Released(r, d.Facts, nil)
		if cerr := r.Clear(); err == nil {
			err = cerr
		}
		return freeze.Result{Outcome: freeze.Released, Message: msg, Warnings: warns}, err
	}
	r.Rec.Phase = state.PhaseLeaving
	if err := r.Save(); err != nil {
		return freeze.Result{}, err
	}
	began := m.clock.Now()
	rep, err := m.end(ctx, d, "thaw")
	took := m.clock.Now().Sub(began)
	if cerr := r.Clear(); cerr != nil {
		m.log.Error("cannot clear the freeze", zap.Error(cerr))
	}
	if why := m.proof(d, rep, err); why != "" {
		m.log.Error("the database lock did not hold until the thaw", zap.String("why", why), zap.Int32("holder_pid", d.PID))
		return freeze.Result{}, &SuspectError{Server: m.drv.Server(), Why: why}
	}
	msg, warns, err := m.drv.Released(r, d.Facts, rep.Facts)
	held := rep.Released.Sub(rep.Acquired)
	m.log.Info("thawed: the database lock held throughout", zap.Duration("held", held), zap.Int("beats", rep.Beats), zap.Float64("max_gap_ms", rep.MaxGap),
		zap.Duration("took", took))
	res := freeze.Result{Outcome: freeze.Released, Warnings: warns,
		Message: fmt.Sprintf("%s lock held %s without a break (%d heartbeats), released in %s; %s", m.drv.Server(), secs(held), rep.Beats, secs(took), msg)}
	return res, err
}

// proof says why rep does not prove that d's hold lasted until now; ""
// when it does.
func (m *Method) proof(d data, rep Report, err error) string {
	var gone *GoneError
	switch {
	case errors.As(err, &gone):
		return "the lock's holder (pid " + fmt.Sprint(d.PID) + ") was gone before the thaw (killed?): its database session, and the lock, ended with it"
	case err != nil:
		return "the lock's holder did not answer the release: " + err.Error() + " (it was ended)"
	case rep.PID != int(d.PID):
		return fmt.Sprintf("another holder answered (pid %d, not %d)", rep.PID, d.PID)
	case !rep.Acquired.Equal(d.Acquired) || rep.Session != d.Session:
		return fmt.Sprintf("the holder reports another hold (session %s since %s, not %s since %s)", rep.Session, rep.Acquired.Format(time.RFC3339Nano), d.Session, d.Acquired.Format(time.RFC3339Nano))
	}
	if herr := rep.Held(); herr != nil {
		return herr.Error()
	}
	return ""
}

// Settle implements freeze.Method: a hold no thaw ended (its deadline
// passed, or the freeze or thaw was interrupted) is released now; one
// from before a reboot ended with the reboot.
func (m *Method) Settle(ctx context.Context, r *freeze.Run, why freeze.Why) (freeze.Result, error) {
	d := dataOf(r)
	if d.Socket == "" {
		return freeze.Result{Outcome: freeze.NothingToThaw, Message: "nothing " + m.drv.Server() + " was held (" + m.drv.Describe(d.Facts) + ")"}, nil
	}
	rep, err := m.end(ctx, d, "settle")
	var gone *GoneError
	switch {
	case why == freeze.Boot && (err == nil || errors.As(err, &gone)):
		return freeze.Result{Outcome: freeze.NothingToThaw, Message: fmt.Sprintf("%s lock from before the reboot: its session ended with the reboot; nothing is held", m.drv.Server())}, nil
	case errors.As(err, &gone):
		return freeze.Result{Outcome: freeze.NothingToThaw, Message: fmt.Sprintf("the %s lock's holder was gone already (its session ended with it); nothing is held", m.drv.Server())}, nil
	case err != nil:
		return freeze.Result{Outcome: freeze.Released, Message: fmt.Sprintf("the %s lock's holder did not answer (%v) and was ended; nothing is held", m.drv.Server(), err)}, nil
	}
	if !d.Held && r.Rec.Phase != state.PhaseEntering {
		return freeze.Result{Outcome: freeze.NothingToThaw, Message: "nothing was held"}, nil
	}
	m.log.Error("database lock released without a thaw", zap.String("by", r.Who), zap.String("phase", r.Rec.Phase), zap.String("lost", rep.Lost))
	return freeze.Result{Outcome: freeze.Released, Message: fmt.Sprintf("released by the %s after %s: no thaw came", r.Who, secs(rep.Released.Sub(rep.Acquired)))}, nil
}

// Holds implements freeze.Method: the holder still answers, the same
// one, and its session still holds.
func (m *Method) Holds(ctx context.Context, r *freeze.Run) error {
	d := dataOf(r)
	if !d.Held {
		return nil
	}
	rep, err := Ask(ctx, d.Socket, "status", ioLimit)
	if why := m.proof(d, rep, err); why != "" {
		return errors.New(why)
	}
	return nil
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3fs", max(d, 0).Seconds()) }

// Probe starts a holder that connects as a freeze would and reports what
// the freeze would do, changing nothing (for check): the server, the
// mode, a warning about missing privileges. name names the instance in
// the holder's log.
func (m *Method) Probe(ctx context.Context, name string) (Facts, error) {
	if _, _, err := m.Check(ctx, freeze.Caller{}); err != nil {
		return nil, err
	}
	conn, err := m.drv.Conn(probeWait)
	if err != nil {
		return nil, err
	}
	by := m.clock.Now().Add(probeWait)
	h, err := m.set.Launcher.Start(Spec{Kind: m.drv.Kind(), Op: OpProbe, Instance: name, Conn: conn, AcquireBy: by}, m.set.Account, "")
	if err != nil {
		return nil, err
	}
	a, err := h.Wait(ctx, by.Add(waitGrace))
	if err != nil {
		return nil, err
	}
	h.reap(5 * time.Second)
	return a.Facts, nil
}

// probeWait bounds a probe's connection.
const probeWait = 10 * time.Second
