package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/metrics"
)

// Server is what the cluster needs of the Domino server: its console.
type Server interface {
	// Console sends one console command ("server -c CMD"), waiting at
	// most limit.
	Console(ctx context.Context, limit time.Duration, cmd string) error
}

// consoleLimit bounds one console command (Domino answers one in about a
// second; the drain's is a step of the stop's plan, so it is kept short).
const consoleLimit = 10 * time.Second

// Console commands of the drain and the catch-up: Server_Restricted=1
// redirects new database opens to the mates for this server session (a
// restart clears it; 3 and 4 would block replication too), 0 lifts it.
const (
	cmdRestrict   = "set config server_restricted=1"
	cmdUnrestrict = "set config server_restricted=0"
)

// Stop is the stop method of a Domino server in a cluster: before the
// stop, the cluster's lock (waiting as long as the caller's budget allows
// with the stop and the snapshot still fitting), every mate serving, and
// a drain (Server_Restricted); after the start is proven, the drain
// lifted, "replicate MATE" with each mate, and the lock released. The
// stop itself, and everything of the freeze that is no cluster's, is the
// wrapped method's.
type Stop struct {
	inner freeze.Method
	c     *Cluster
	srv   Server
	start time.Duration // the server's start timeout: how long its lease outlasts the deadline
}

var (
	_ freeze.Method   = (*Stop)(nil)
	_ freeze.Extender = (*Stop)(nil)
	_ freeze.Tidier   = (*Stop)(nil)
)

// NewStop wraps inner, the server's stop method.
func NewStop(inner freeze.Method, c *Cluster, srv Server, start time.Duration) *Stop {
	return &Stop{inner: inner, c: c, srv: srv, start: start}
}

// Unwrap is the wrapped stop method.
func (m *Stop) Unwrap() freeze.Method { return m.inner }

// Cluster is the cluster the server belongs to.
func (m *Stop) Cluster() *Cluster { return m.c }

// Name implements freeze.Method: the stop's name.
func (m *Stop) Name() string { return m.inner.Name() }

// Deadline implements freeze.Method.
func (m *Stop) Deadline(r *freeze.Run, c freeze.Caller, now time.Time) time.Time {
	return m.inner.Deadline(r, c, now)
}

// Holds implements freeze.Method.
func (m *Stop) Holds(ctx context.Context, r *freeze.Run) error { return m.inner.Holds(ctx, r) }

// Describe implements freeze.Method.
func (m *Stop) Describe(r *freeze.Run) string { return m.inner.Describe(r) }

// Late implements freeze.Method.
func (m *Stop) Late() (string, string) { return m.inner.Late() }

// Check implements freeze.Method: the client's certificates must load
// before anything is recorded; the rest is the stop's.
func (m *Stop) Check(ctx context.Context, c freeze.Caller) (freeze.Result, bool, error) {
	if _, err := tlsConfig(m.c.cfg); err != nil {
		return freeze.Result{}, false, &freeze.FreezeError{Cause: fmt.Errorf("cluster %s: %w", m.c.cfg.Name, err), NotStopped: true}
	}
	return m.inner.Check(ctx, c)
}

// Plan implements freeze.Method: the drain is a step before the stop's,
// and the stop gets what the budget leaves after it.
func (m *Stop) Plan(c freeze.Caller) freeze.Plan {
	d := m.c.cfg.Drain
	if d <= 0 {
		return m.inner.Plan(c)
	}
	step := freeze.Step{Name: "drain", What: fmt.Sprintf("console %q, then wait %s: new database opens go to the mates", cmdRestrict, d), Limit: consoleLimit + d}
	ic := c
	if c.Budget > 0 {
		ic.Budget = max(c.Budget-step.Limit, 0)
	}
	p := m.inner.Plan(ic)
	p.Budget = c.Budget
	p.Steps = append([]freeze.Step{step}, p.Steps...)
	p.Worst += step.Limit
	p.Before += step.Limit
	p.MinStop += step.Limit
	return p
}

// waitFor is how long a freeze by c may wait for the lock, spent already
// gone and left until the freeze's deadline: lock_wait, or less, what c's
// budget leaves after the stop's worst case (drain included), its margin
// and a contact with etcd (for a caller with one timer, the snapshot and
// the thaw as well), and never so long that the stop would eat the time
// the snapshot needs before the deadline. why says which.
func (m *Stop) waitFor(c freeze.Caller, spent, left, window time.Duration) (time.Duration, string) {
	w := m.c.cfg.LockWait
	why := "lock_wait " + w.String()
	p := m.Plan(c)
	if c.Budget > 0 {
		share := c.Budget
		if c.Cycle {
			share -= c.Snapshot + c.Thaw
		}
		if slack := share - p.Margin - p.Worst - spent - m.c.cfg.Timeout; slack < w {
			w = max(slack, 0)
			why = fmt.Sprintf("all %s's budget of %s allows with the stop (at most %s) and the snapshot still fitting", c.Name, c.Budget.Round(time.Second), p.Worst.Round(time.Second))
		}
	}
	if left > 0 {
		if slack := left - p.Worst - m.c.cfg.Timeout - freeze.MinHold(window); slack < w {
			w = max(slack, 0)
			why = fmt.Sprintf("all the freeze's deadline window of %s allows with the stop (at most %s) and the snapshot still fitting", window.Round(time.Second), p.Worst.Round(time.Second))
		}
	}
	return w, why
}

// margin is how long the freeze's lease outlasts its deadline: the
// watchdog (which looks every 2 s) starts the server at the deadline, and
// the lock is held until it may serve. Should that start take longer
// still, the mates' next freezes find this server not answering on NRPC
// and are refused all the same.
func (m *Stop) margin() time.Duration { return min(m.start, 10*time.Minute) + 15*time.Second }

// Enter implements freeze.Method: the lock, the mates, the drain, then
// the stop.
func (m *Stop) Enter(ctx context.Context, r *freeze.Run, c freeze.Caller) (freeze.Result, error) {
	began := r.Now()
	spent := time.Duration(0)
	if !c.Began.IsZero() {
		spent = max(began.Sub(c.Began), 0)
	}
	// A note left by an earlier freeze that was forgotten (an
	// administrator's stop or start disowned it): its lock goes first, or
	// this freeze would queue behind it.
	if old, ok := loadNote(r); ok && old.Hold.Lease != 0 {
		r.Log().Warn("releasing the cluster lock of a freeze that was forgotten", zap.String("cluster", old.Cluster), zap.String("caller", old.Caller))
		release(ctx, m.c, r, old)
	}
	// The note first: whoever settles this record knows the stop has not
	// begun while the note says so.
	n := Note{Cluster: m.c.cfg.Name, Mode: ModeStop, Caller: c.Name, Stage: StageWaiting}
	if err := saveNote(r, n); err != nil {
		return freeze.Result{}, fmt.Errorf("cluster %s: cannot record the freeze: %w", m.c.cfg.Name, err)
	}
	warnings, err := m.lock(ctx, r, c, spent, &n)
	if err != nil {
		return freeze.Result{}, err
	}
	if d := m.c.cfg.Drain; d > 0 {
		n.Stage, n.Restricted = StageDraining, true
		if err := saveNote(r, n); err != nil {
			return freeze.Result{}, fmt.Errorf("cluster %s: cannot record the drain: %w", m.c.cfg.Name, err)
		}
		if err := m.console(ctx, r, cmdRestrict); err != nil {
			warnings = append(warnings, fmt.Sprintf("cluster %s: Server_Restricted could not be set (%v): stopped without the drain", m.c.cfg.Name, err))
		} else if err := m.c.sleep(ctx, d); err != nil {
			return freeze.Result{}, err
		}
	}
	n.Stage = StageStopping
	if err := saveNote(r, n); err != nil {
		return freeze.Result{}, fmt.Errorf("cluster %s: cannot record the stop: %w", m.c.cfg.Name, err)
	}
	ic := c
	if c.Budget > 0 {
		ic.Budget = max(c.Budget-r.Now().Sub(began), 0)
	}
	res, err := m.inner.Enter(ctx, r, ic)
	res.Warnings = append(warnings, res.Warnings...)
	return res, err
}

// lock takes the cluster's lock for the freeze and checks the mates; n
// is saved once the lock is on the freeze's lease. A refusal leaves the
// cluster as it was.
func (m *Stop) lock(ctx context.Context, r *freeze.Run, c freeze.Caller, spent time.Duration, n *Note) ([]string, error) {
	cfg := m.c.cfg
	cli, err := dial(cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", cfg.Name, err)
	}
	defer cli.Close()
	wait, why := m.waitFor(c, spent, r.Rec.Deadline.Sub(r.Now()), r.Rec.Deadline.Sub(r.Rec.Since))
	tk, err := m.c.Acquire(ctx, cli, c.Name, r.Now().Add(wait), why)
	var ue *UnreachableError
	switch {
	case errors.As(err, &ue):
		m.c.contact(r, false)
		return m.unlocked(ctx, r, n, ue)
	case err != nil:
		m.c.contact(r, ctx.Err() == nil)
		m.c.refused(r, refusal(err))
		return nil, refusedErr(cfg.Name, err)
	}
	m.c.contact(r, true)
	view, err := m.c.Read(ctx, cli)
	if err != nil {
		tk.Drop(ctx)
		return nil, refusedErr(cfg.Name, err)
	}
	view.Holders = tk.Others
	if err := m.mates(ctx, r, view); err != nil {
		tk.Drop(ctx)
		return nil, refusedErr(cfg.Name, err)
	}
	ttl := r.Rec.Deadline.Sub(r.Now()) + m.margin()
	lease, err := m.c.Grant(ctx, cli, ttl)
	if err != nil {
		tk.Drop(ctx)
		return nil, refusedErr(cfg.Name, err)
	}
	// The lease is recorded before the lock moves onto it: whoever ends
	// the freeze finds what to release.
	n.Stage, n.Hold = StageLocked, Hold{Lease: int64(lease)}
	if err := saveNote(r, *n); err != nil {
		_ = m.c.Release(ctx, cli, n.Hold)
		tk.Drop(ctx)
		return nil, fmt.Errorf("cluster %s: cannot record the lock: %w", cfg.Name, err)
	}
	h, err := tk.Keep(ctx, lease, ttl)
	if err != nil {
		tk.Drop(ctx) // the freeze's lease is released with the note (Abort)
		m.c.refused(r, refusal(err))
		return nil, refusedErr(cfg.Name, err)
	}
	n.Hold = h
	if err := saveNote(r, *n); err != nil {
		r.Log().Warn("cannot record the lock's key; its lease is recorded", zap.Error(err))
	}
	m.c.held(r, h.Since, tk.Waited)
	r.Log().Info("cluster lock taken", zap.String("cluster", cfg.Name), zap.Duration("waited", tk.Waited), zap.Time("lease_until", h.Until))
	var warnings []string
	if tk.Waited >= time.Second {
		warnings = append(warnings, fmt.Sprintf("cluster %s: waited %s for the lock", cfg.Name, tk.Waited.Round(100*time.Millisecond)))
	}
	return warnings, nil
}

// refusedErr is err as a refused freeze's line: the cluster named, and
// "freeze refused" at its end (the lock's own errors say both).
func refusedErr(cluster string, err error) error {
	switch {
	case errors.As(err, new(*BusyError)), errors.As(err, new(*LostError)), errors.As(err, new(*MateDownError)):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("cluster %s: the wait for the lock was cut short (%w): freeze refused", cluster, err)
	}
	return fmt.Errorf("cluster %s: %w: freeze refused", cluster, err)
}

// unlocked decides, etcd out of reach, by etcd_unreachable: refuse, or
// stop without the lock when every mate answers on NRPC.
func (m *Stop) unlocked(ctx context.Context, r *freeze.Run, n *Note, ue *UnreachableError) ([]string, error) {
	cfg := m.c.cfg
	if cfg.Unreachable != config.UnreachableProceed {
		m.c.refused(r, metrics.RefusedUnreachable)
		return nil, fmt.Errorf("cluster %s: %w (etcd_unreachable = fail): freeze refused", cfg.Name, ue)
	}
	if err := m.mates(ctx, r, View{}); err != nil {
		return nil, err
	}
	n.Unlocked, n.Stage = true, StageLocked
	if err := saveNote(r, *n); err != nil {
		return nil, fmt.Errorf("cluster %s: cannot record the freeze: %w", cfg.Name, err)
	}
	r.Log().Warn("etcd does not answer: stopping without the cluster lock (etcd_unreachable = proceed)", zap.String("cluster", cfg.Name), zap.Error(ue))
	return []string{fmt.Sprintf("cluster %s: %v: stopped without the cluster lock (etcd_unreachable = proceed); every mate answered on NRPC", cfg.Name, ue)}, nil
}

// mates refuses a stop that would leave more of the cluster down than
// max_down allows.
func (m *Stop) mates(ctx context.Context, r *freeze.Run, v View) error {
	ms := withView(m.c.Probe(ctx), v)
	down := Down(ms)
	for _, st := range ms {
		r.Log().Info("cluster mate", zap.String("cluster", m.c.cfg.Name), zap.String("mate", st.Mate.Name), zap.String("state", st.Describe()))
	}
	if len(down)+1 <= m.c.cfg.MaxDown {
		return nil
	}
	m.c.refused(r, metrics.RefusedMateDown)
	return &MateDownError{Cluster: m.c.cfg.Name, MaxDown: m.c.cfg.MaxDown, Mates: len(ms), Down: down}
}

// refusal is the metrics' reason for err.
func refusal(err error) string {
	switch {
	case errors.As(err, new(*BusyError)):
		return metrics.RefusedBusy
	case errors.As(err, new(*LostError)):
		return metrics.RefusedLost
	case errors.As(err, new(*MateDownError)):
		return metrics.RefusedMateDown
	case errors.As(err, new(*RefusedError)):
		return metrics.RefusedEtcd
	case errors.As(err, new(*UnreachableError)):
		return metrics.RefusedUnreachable
	}
	return metrics.RefusedBusy // the caller gave up waiting
}

// Abort implements freeze.Method: a freeze that failed before its stop
// began only gives the lock back and lifts the drain (nothing was
// stopped); after, the stop method restores the server, and the lock is
// released once it is back (or left to the watchdog with the record).
func (m *Stop) Abort(ctx context.Context, r *freeze.Run, c freeze.Caller, cause error) (freeze.Result, error) {
	n, ok := loadNote(r)
	if !ok {
		return m.inner.Abort(ctx, r, c, cause) // the freeze never got as far as its note
	}
	if n.Stage != StageStopping {
		m.finish(ctx, r, n, running)
		if err := r.Clear(); err != nil {
			r.Log().Error("cannot clear state", zap.Error(err))
		}
		return freeze.Result{}, &freeze.FreezeError{Cause: cause, NotStopped: true}
	}
	res, err := m.inner.Abort(ctx, r, c, cause)
	if owed(r) {
		return res, err // the watchdog brings it back, and releases the lock then
	}
	state := back
	var fe *freeze.FreezeError
	if errors.As(err, &fe) && fe.NotStopped {
		state = running
	}
	m.finish(ctx, r, n, state)
	return res, err
}

// Leave implements freeze.Method: the start is the stop method's; once it
// is proven, the drain is lifted, the mates asked to replicate, and the
// lock released. A start handed to the watchdog, or failed, keeps the
// lock: the server is not back.
func (m *Stop) Leave(ctx context.Context, r *freeze.Run, b freeze.Bound) (freeze.Result, error) {
	n, ok := loadNote(r)
	res, err := m.inner.Leave(ctx, r, b)
	if !ok || err != nil || res.Outcome == freeze.Launched || owed(r) {
		return res, err
	}
	res.Warnings = append(res.Warnings, m.finish(ctx, r, n, stateOf(res))...)
	return res, err
}

// Settle implements freeze.Method: a freeze cut short before its stop
// began changed nothing but the lock and the drain; otherwise the stop
// method settles the server, and the lock is released once it is back.
func (m *Stop) Settle(ctx context.Context, r *freeze.Run, why freeze.Why) (freeze.Result, error) {
	n, ok := loadNote(r)
	if !ok {
		return m.inner.Settle(ctx, r, why)
	}
	if n.Stage != StageStopping {
		warnings := m.finish(ctx, r, n, running)
		r.Rec.Owed = false
		return freeze.Result{Outcome: freeze.NotStarted, Warnings: warnings,
			Message: fmt.Sprintf("%s was never stopped (the freeze was cut short before its stop); nothing to start", r.Instance().Name)}, nil
	}
	res, err := m.inner.Settle(ctx, r, why)
	if err != nil {
		return res, err // still owed: the lock stays until the server is back
	}
	res.Warnings = append(res.Warnings, m.finish(ctx, r, n, stateOf(res))...)
	return res, nil
}

// Tidy implements freeze.Tidier: a note left with no freeze in place is
// a thaw (or an abort) killed after the stop method cleared the record,
// before the lock was released; the watchdog or recover finishes it.
// Stopped, the server was started again (or given up by an
// administrator): the drain is lifted and the mates asked to replicate.
func (m *Stop) Tidy(ctx context.Context, r *freeze.Run) []string {
	n, ok := loadNote(r)
	if !ok || n.Mode != ModeStop || r.Rec.Held() {
		return nil
	}
	r.Log().Warn("a freeze's cluster lock outlived it (its release was cut short): releasing it", zap.String("cluster", n.Cluster), zap.String("stage", n.Stage))
	st := running
	if n.Stage == StageStopping {
		st = back
	}
	return m.finish(ctx, r, n, st)
}

// Extend implements freeze.Extender: the lock's lease follows the
// freeze's deadline.
func (m *Stop) Extend(ctx context.Context, r *freeze.Run, deadline time.Time) error {
	n, ok := loadNote(r)
	if !ok || n.Hold.Lease == 0 {
		return nil
	}
	return extend(ctx, m.c, r, n, deadline.Sub(r.Now())+m.margin())
}

func extend(ctx context.Context, c *Cluster, r *freeze.Run, n Note, ttl time.Duration) error {
	cli, err := dial(c.cfg)
	if err != nil {
		return err
	}
	defer cli.Close()
	h, err := c.Extend(ctx, cli, n.Hold, ttl)
	if err != nil {
		return fmt.Errorf("cluster %s: the lock's lease could not follow the freeze's new deadline (%v): it ends at %s", c.cfg.Name, err, n.Hold.Until.Local().Format(time.TimeOnly))
	}
	n.Hold = h
	return saveNote(r, n)
}

// owed reports whether the record still owes bringing the server back.
func owed(r *freeze.Run) bool { return r.Rec.Owed || r.Rec.Interrupted() }

// How the server is when the cluster's part of a freeze ends.
type serverState int

const (
	down    serverState = iota // not started (not running before, or starts blocked)
	running                    // never stopped: only the drain is lifted
	back                       // started again and serving: the drain is lifted, the mates replicate
)

func stateOf(res freeze.Result) serverState {
	if res.Outcome == freeze.Started || res.Outcome == freeze.FoundRunning {
		return back
	}
	return down
}

// finish ends the cluster's part of a freeze: the drain lifted and the
// mates asked to replicate (as the server is), the lock released, the
// note removed. What failed is returned as warnings: the server is back,
// the freeze succeeded.
func (m *Stop) finish(ctx context.Context, r *freeze.Run, n Note, st serverState) []string {
	ctx = context.WithoutCancel(ctx)
	var warnings []string
	if st != down && n.Restricted {
		if err := m.console(ctx, r, cmdUnrestrict); err != nil {
			warnings = append(warnings, fmt.Sprintf("cluster %s: Server_Restricted could not be cleared (%v): new database opens still go to the mates; clear it with the console command %q", n.Cluster, err, cmdUnrestrict))
		}
	}
	if st == back && m.c.cfg.Replicate {
		warnings = append(warnings, m.replicate(ctx, r)...)
	}
	warnings = append(warnings, release(ctx, m.c, r, n)...)
	return warnings
}

// replicate asks the server to replicate with each mate ("replicate
// MATE" on its console): cluster replication events a mate queued while
// this server was down are lost or retried only after an hour, standard
// replication catches up now. A mate that does not answer is a warning.
func (m *Stop) replicate(ctx context.Context, r *freeze.Run) []string {
	var warnings []string
	failed := 0
	for _, st := range m.c.Probe(ctx) {
		cmd := fmt.Sprintf("replicate %q", st.Mate.Name)
		if !st.Serving {
			failed++
			warnings = append(warnings, fmt.Sprintf("cluster %s: no %s: mate %s (%s) does not answer on NRPC (%s); it catches up by cluster replication", m.c.cfg.Name, cmd, st.Mate.Name, st.Mate.Addr, short(st.Err)))
			continue
		}
		if err := m.console(ctx, r, cmd); err != nil {
			failed++
			warnings = append(warnings, fmt.Sprintf("cluster %s: %s failed (%v)", m.c.cfg.Name, cmd, err))
		}
	}
	if failed > 0 {
		m.c.facts(r, func(f *metrics.ClusterFacts) { f.ReplicateFailures += float64(failed) })
	}
	return warnings
}

// release gives the lock (or an online freeze's record) back and forgets
// the note.
func release(ctx context.Context, c *Cluster, r *freeze.Run, n Note) []string {
	var warnings []string
	if n.Hold.Lease != 0 {
		if err := withClient(c, func(cli *clientv3.Client) error { return c.releaseRetried(ctx, cli, n.Hold) }); err != nil {
			c.contact(r, false)
			what := "lock"
			if n.Mode == ModeOnline {
				what = "record of this online freeze"
			}
			warnings = append(warnings, fmt.Sprintf("cluster %s: the %s could not be released (%v): it ends with its lease at %s", n.Cluster, what, err, n.Hold.Until.Local().Format(time.TimeOnly)))
		} else {
			c.contact(r, true)
			r.Log().Info("cluster lock released", zap.String("cluster", n.Cluster), zap.String("mode", n.Mode))
		}
	}
	if n.Mode == ModeStop {
		c.held(r, time.Time{}, 0)
	}
	if err := clearNote(r); err != nil {
		r.Log().Warn("cannot remove the cluster note", zap.Error(err))
	}
	return warnings
}

// releaseRetried releases h, once more after an etcd that did not answer
// (between two leaders, an election takes about a second): a lock left
// to its lease keeps every mate waiting until the freeze's deadline.
func (c *Cluster) releaseRetried(ctx context.Context, cli *clientv3.Client, h Hold) error {
	err := c.Release(ctx, cli, h)
	if errors.As(err, new(*UnreachableError)) && c.sleep(ctx, time.Second) == nil {
		err = c.Release(ctx, cli, h)
	}
	return err
}

func withClient(c *Cluster, fn func(*clientv3.Client) error) error {
	cli, err := dial(c.cfg)
	if err != nil {
		return err
	}
	defer cli.Close()
	return fn(cli)
}

// console runs a console command, logged.
func (m *Stop) console(ctx context.Context, r *freeze.Run, cmd string) error {
	err := m.srv.Console(ctx, consoleLimit, cmd)
	if err != nil {
		r.Log().Warn("console command failed", zap.String("cluster", m.c.cfg.Name), zap.String("command", cmd), zap.Error(err))
	} else {
		r.Log().Info("console command", zap.String("cluster", m.c.cfg.Name), zap.String("command", cmd))
	}
	return err
}

// sleep waits d on the cluster's clock, or less when ctx ends.
func (c *Cluster) sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.clock.After(d):
		return nil
	}
}
