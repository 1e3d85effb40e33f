package cluster

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/quiesce/quiesce/core/freeze"
)

// Online is an online freeze method (Domino Backup) of a server in a
// cluster: it takes no lock, as the server never stops, but records its
// freeze in etcd beside the mates' for as long as it holds, so that
// check (and a mate) see it. etcd out of reach makes that record a
// warning, never a failure: there is no outage to guard.
type Online struct {
	inner freeze.Method
	c     *Cluster
}

var (
	_ freeze.Method   = (*Online)(nil)
	_ freeze.Extender = (*Online)(nil)
	_ freeze.Tidier   = (*Online)(nil)
)

// NewOnline wraps inner, the server's online method.
func NewOnline(inner freeze.Method, c *Cluster) *Online { return &Online{inner: inner, c: c} }

// Unwrap is the wrapped online method.
func (m *Online) Unwrap() freeze.Method { return m.inner }

// Cluster is the cluster the server belongs to.
func (m *Online) Cluster() *Cluster { return m.c }

// Name implements freeze.Method.
func (m *Online) Name() string { return m.inner.Name() }

// Plan implements freeze.Method.
func (m *Online) Plan(c freeze.Caller) freeze.Plan { return m.inner.Plan(c) }

// Check implements freeze.Method.
func (m *Online) Check(ctx context.Context, c freeze.Caller) (freeze.Result, bool, error) {
	return m.inner.Check(ctx, c)
}

// Deadline implements freeze.Method.
func (m *Online) Deadline(r *freeze.Run, c freeze.Caller, now time.Time) time.Time {
	return m.inner.Deadline(r, c, now)
}

// Holds implements freeze.Method.
func (m *Online) Holds(ctx context.Context, r *freeze.Run) error { return m.inner.Holds(ctx, r) }

// Describe implements freeze.Method.
func (m *Online) Describe(r *freeze.Run) string { return m.inner.Describe(r) }

// Late implements freeze.Method.
func (m *Online) Late() (string, string) { return m.inner.Late() }

// recordMargin is how long an online freeze's record outlasts its
// deadline: ending backup mode.
const recordMargin = time.Minute

// Enter implements freeze.Method: the online freeze, then its record.
func (m *Online) Enter(ctx context.Context, r *freeze.Run, c freeze.Caller) (freeze.Result, error) {
	if old, ok := loadNote(r); ok && old.Hold.Lease != 0 {
		release(ctx, m.c, r, old) // a forgotten freeze's (see Stop.Enter)
	}
	res, err := m.inner.Enter(ctx, r, c)
	if err != nil {
		return res, err
	}
	ttl := r.Rec.Deadline.Sub(r.Now()) + recordMargin
	var h Hold
	err = withClient(m.c, func(cli *clientv3.Client) error {
		lease, err := m.c.Grant(ctx, cli, ttl)
		if err != nil {
			return err
		}
		h, err = m.c.Record(ctx, cli, c.Name, lease, ttl)
		if err != nil {
			_ = m.c.Release(ctx, cli, Hold{Lease: int64(lease)})
		}
		return err
	})
	m.c.contact(r, err == nil)
	if err != nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("cluster %s: this online freeze is not recorded in etcd (%v); Domino serves throughout, nothing else changes", m.c.cfg.Name, err))
		return res, nil
	}
	if err := saveNote(r, Note{Cluster: m.c.cfg.Name, Mode: ModeOnline, Stage: StageRecorded, Caller: c.Name, Hold: h}); err != nil {
		_ = withClient(m.c, func(cli *clientv3.Client) error { return m.c.Release(ctx, cli, h) })
		res.Warnings = append(res.Warnings, fmt.Sprintf("cluster %s: this online freeze's record in etcd was withdrawn: the state directory could not keep it (%v)", m.c.cfg.Name, err))
	}
	return res, nil
}

// Abort implements freeze.Method.
func (m *Online) Abort(ctx context.Context, r *freeze.Run, c freeze.Caller, cause error) (freeze.Result, error) {
	res, err := m.inner.Abort(ctx, r, c, cause)
	m.done(ctx, r)
	return res, err
}

// Leave implements freeze.Method.
func (m *Online) Leave(ctx context.Context, r *freeze.Run, b freeze.Bound) (freeze.Result, error) {
	res, err := m.inner.Leave(ctx, r, b)
	res.Warnings = append(res.Warnings, m.done(ctx, r)...)
	return res, err
}

// Settle implements freeze.Method.
func (m *Online) Settle(ctx context.Context, r *freeze.Run, why freeze.Why) (freeze.Result, error) {
	res, err := m.inner.Settle(ctx, r, why)
	if err == nil {
		res.Warnings = append(res.Warnings, m.done(ctx, r)...)
	}
	return res, err
}

// Extend implements freeze.Extender.
func (m *Online) Extend(ctx context.Context, r *freeze.Run, deadline time.Time) error {
	n, ok := loadNote(r)
	if !ok || n.Hold.Lease == 0 {
		return nil
	}
	return extend(ctx, m.c, r, n, deadline.Sub(r.Now())+recordMargin)
}

// Tidy implements freeze.Tidier: a record left with no freeze in place
// is withdrawn.
func (m *Online) Tidy(ctx context.Context, r *freeze.Run) []string {
	n, ok := loadNote(r)
	if !ok || n.Mode != ModeOnline || r.Rec.Held() {
		return nil
	}
	return release(ctx, m.c, r, n)
}

// done withdraws the record once the freeze is over (the record no longer
// owes anything).
func (m *Online) done(ctx context.Context, r *freeze.Run) []string {
	n, ok := loadNote(r)
	if !ok || owed(r) {
		return nil
	}
	return release(ctx, m.c, r, n)
}
