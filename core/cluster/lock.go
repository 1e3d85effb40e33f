package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/config"
)

// The lock is a queue of keys under the cluster's lock prefix, one per
// server that wants to stop, each on a lease: the first MaxDown keys by
// creation (etcd's create revision) hold it, the others wait for a key
// ahead of them to go. It is etcd's own lock recipe
// (client/v3/concurrency's Mutex) for N holders, with the holder's
// description as the key's value, so that the mate that holds the lock,
// and since when, is read in one call.
//
// A key waits on a short lease this process keeps alive: a waiter that
// dies leaves the queue within waitTTL. The holder's key moves to the
// freeze's own lease, which ends with the freeze's deadline (plus the
// time a start may take): it outlives this process, so that the lock is
// held for as long as the server may be down for the freeze, whoever ends
// the freeze (a thaw, the watchdog, recover), and a host that dies with
// its freeze releases the lock when that lease ends.

// waitTTL is the lease of a key that waits for the lock.
const waitTTL = 10 * time.Second

// recheck is how often a waiter looks at the queue again when no change
// woke it (and so notices an etcd that stopped answering).
const recheck = 2 * time.Second

// Modes of a freeze, in its entry.
const (
	ModeStop   = "stop"   // the server is stopped: it holds the lock
	ModeOnline = "online" // frozen online: no outage, only recorded
)

// States of a lock key.
const (
	StateWaiting = "waiting"
	StateHeld    = "held"
)

// Entry is one server's key: in the lock's queue, or the record of its
// freeze among the cluster's members.
type Entry struct {
	Server string    `json:"server"`
	Host   string    `json:"host"`
	PID    int       `json:"pid"`
	Caller string    `json:"caller,omitempty"`
	Mode   string    `json:"mode"`
	State  string    `json:"state,omitempty"`
	Since  time.Time `json:"since"`
	Until  time.Time `json:"until,omitempty"` // the lease ends then, at the latest
	Key    string    `json:"-"`
	Rev    int64     `json:"-"` // its create revision: its place in the queue
	Lease  int64     `json:"-"`
}

// Describe names the server and its freeze, for messages ("Mail2/Acme
// (stop freeze by veeam, host mail2)").
func (e Entry) Describe() string { return e.Server + " (" + e.freeze() + ")" }

// freeze names the entry's freeze alone ("stop freeze by veeam", host
// "mail2"), for a line that names the server already.
func (e Entry) freeze() string {
	s := e.Mode + " freeze"
	if e.Caller != "" {
		s += " by " + e.Caller
	}
	if e.Host != "" && !strings.EqualFold(e.Host, e.Server) {
		s += ", host " + e.Host
	}
	return s
}

// Cluster is the configured cluster as this server sees it.
type Cluster struct {
	cfg   config.Cluster
	self  string
	host  string
	log   *zap.Logger
	clock clock.Clock
}

// New is the cluster of cfg, seen from the server named self.
func New(cfg config.Cluster, self string, log *zap.Logger, c clock.Clock) *Cluster {
	if log == nil {
		log = zap.NewNop()
	}
	if c == nil {
		c = clock.Real{}
	}
	host, _ := os.Hostname()
	return &Cluster{cfg: cfg, self: self, host: host, log: log.With(zap.String("cluster", cfg.Name)), clock: c}
}

// Config is the cluster's configuration.
func (c *Cluster) Config() config.Cluster { return c.cfg }

// Self is this server's name.
func (c *Cluster) Self() string { return c.self }

func (c *Cluster) base() string         { return c.cfg.Prefix + "/clusters/" + c.cfg.Name }
func (c *Cluster) lockPrefix() string   { return c.base() + "/lock/" }
func (c *Cluster) memberPrefix() string { return c.base() + "/members/" }
func (c *Cluster) memberKey() string    { return c.memberPrefix() + c.self }

// entry is this server's entry for a freeze by caller.
func (c *Cluster) entry(caller, mode string) Entry {
	return Entry{Server: c.self, Host: c.host, PID: os.Getpid(), Caller: caller, Mode: mode, Since: c.clock.Now()}
}

// Ticket is a place at the head of the lock's queue, on the waiter's own
// lease: Keep moves it to the freeze's lease, Drop gives it up.
type Ticket struct {
	c      *Cluster
	cli    *clientv3.Client
	lease  clientv3.LeaseID
	key    string
	rev    int64
	entry  Entry
	stop   context.CancelFunc // ends the keepalive
	Others []Entry            // the other holders when it was granted
	Waited time.Duration
}

// BusyError is the lock held by others until the wait had to end.
type BusyError struct {
	Cluster string
	Holders []Entry
	Waited  time.Duration
	Why     string    // why the wait ended there ("all vmware's budget allows with the stop and the snapshot")
	At      time.Time // when the wait ended
}

func (e *BusyError) Error() string {
	var who []string
	for _, h := range e.Holders {
		who = append(who, fmt.Sprintf("%s since %s (%s ago)", h.Describe(), h.Since.Local().Format(time.DateTime), roundAgo(e.age(h))))
	}
	return fmt.Sprintf("cluster %s: the lock is held by %s; waited %s (%s): freeze refused", e.Cluster, strings.Join(who, " and "),
		e.Waited.Round(100*time.Millisecond), e.Why)
}

func (e *BusyError) age(h Entry) time.Duration { return max(e.At.Sub(h.Since), 0) }

func roundAgo(d time.Duration) time.Duration {
	if d < time.Minute {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

// LostError is a key that vanished from the queue: its lease ended (this
// process could not keep it alive: etcd was out of reach too long).
type LostError struct{ Cluster string }

func (e *LostError) Error() string {
	return fmt.Sprintf("cluster %s: this server's place in the lock's queue is gone (its lease ended while etcd was out of reach): freeze refused", e.Cluster)
}

// Acquire queues for the lock and waits until it is granted or until
// the deadline `until` (no wait when it has passed: one look). The
// waiter's key lives on a short lease kept alive by this process.
func (c *Cluster) Acquire(ctx context.Context, cli *clientv3.Client, caller string, until time.Time, why string) (*Ticket, error) {
	began := c.clock.Now()
	e := c.entry(caller, ModeStop)
	e.State = StateWaiting
	var grant *clientv3.LeaseGrantResponse
	err := c.call(ctx, func(ctx context.Context) (err error) {
		grant, err = cli.Grant(ctx, int64(waitTTL/time.Second))
		return err
	})
	if err != nil {
		return nil, err
	}
	kctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	keep, err := cli.KeepAlive(kctx, grant.ID)
	if err != nil {
		stop()
		return nil, &UnreachableError{Endpoints: c.cfg.Endpoints, Timeout: c.cfg.Timeout, Err: err}
	}
	go func() {
		for range keep { //nolint:revive // draining the keepalive answers
		}
	}()
	t := &Ticket{c: c, cli: cli, lease: grant.ID, key: fmt.Sprintf("%s%016x", c.lockPrefix(), int64(grant.ID)), entry: e, stop: stop}
	if err := t.queue(ctx); err != nil {
		t.Drop(ctx)
		return nil, err
	}
	for {
		ahead, others, rev, err := t.look(ctx)
		if err != nil {
			t.Drop(ctx)
			return nil, err
		}
		if len(ahead) == 0 {
			t.Others, t.Waited = others, c.clock.Now().Sub(began)
			return t, nil
		}
		if !c.clock.Now().Before(until) {
			t.Drop(ctx)
			now := c.clock.Now()
			return nil, &BusyError{Cluster: c.cfg.Name, Holders: ahead, Waited: now.Sub(began), Why: why, At: now}
		}
		t.waitChange(ctx, rev, until)
		if ctx.Err() != nil {
			t.Drop(ctx)
			return nil, ctx.Err()
		}
	}
}

// queue puts the waiter's key at the end of the queue.
func (t *Ticket) queue(ctx context.Context) error {
	val, _ := json.Marshal(t.entry)
	return t.c.call(ctx, func(ctx context.Context) error {
		resp, err := t.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(t.key), "=", 0)).
			Then(clientv3.OpPut(t.key, string(val), clientv3.WithLease(t.lease))).Commit()
		if err != nil {
			return err
		}
		t.rev = resp.Header.Revision
		return nil
	})
}

// look reads the queue: the holders ahead of this key when it does not
// hold the lock yet (none when it does), the other holders when it does,
// and the revision read.
func (t *Ticket) look(ctx context.Context) (ahead, others []Entry, rev int64, err error) {
	all, rev, err := t.c.queue(ctx, t.cli)
	if err != nil {
		return nil, nil, 0, err
	}
	pos := -1
	for i, e := range all {
		if e.Key == t.key {
			pos = i
		}
	}
	if pos < 0 {
		return nil, nil, 0, &LostError{Cluster: t.c.cfg.Name}
	}
	n := t.c.cfg.MaxDown
	if pos >= n {
		return all[:n], nil, rev, nil
	}
	for i, e := range all {
		if i < n && i != pos {
			others = append(others, e)
		}
	}
	return nil, others, rev, nil
}

// queue is every key of the lock's queue, first created first.
func (c *Cluster) queue(ctx context.Context, cli *clientv3.Client) ([]Entry, int64, error) {
	var resp *clientv3.GetResponse
	err := c.call(ctx, func(ctx context.Context) (err error) {
		resp, err = cli.Get(ctx, c.lockPrefix(), clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	var out []Entry
	for _, kv := range resp.Kvs {
		var e Entry
		if json.Unmarshal(kv.Value, &e) != nil {
			e = Entry{Server: "(unreadable entry " + string(kv.Key) + ")"}
		}
		e.Key, e.Rev, e.Lease = string(kv.Key), kv.CreateRevision, kv.Lease
		out = append(out, e)
	}
	return out, resp.Header.Revision, nil
}

// waitChange waits until a key of the queue is deleted after rev, until
// the deadline, or recheck at most.
func (t *Ticket) waitChange(ctx context.Context, rev int64, until time.Time) {
	d := min(until.Sub(t.c.clock.Now()), recheck)
	wctx, cancel := context.WithTimeout(ctx, max(d, 0))
	defer cancel()
	wch := t.cli.Watch(clientv3.WithRequireLeader(wctx), t.c.lockPrefix(), clientv3.WithPrefix(), clientv3.WithRev(rev+1), clientv3.WithFilterPut())
	select {
	case <-wch:
	case <-wctx.Done():
	}
}

// Drop gives the place up: the key is deleted and the waiter's lease
// revoked (it ends by itself within waitTTL when etcd is out of reach).
func (t *Ticket) Drop(ctx context.Context) {
	t.stop()
	ctx = context.WithoutCancel(ctx)
	if err := t.c.call(ctx, func(ctx context.Context) error {
		_, err := t.cli.Revoke(ctx, t.lease)
		return err
	}); err != nil && !gone(err) {
		t.c.log.Warn("could not leave the lock's queue; its key ends with its lease", zap.Duration("within", waitTTL), zap.Error(err))
	}
}

// Hold is the lock (or an online freeze's record) on the freeze's lease.
type Hold struct {
	Lease int64     `json:"lease"`
	Key   string    `json:"key,omitempty"` // the lock's key; "" for an online freeze's record alone
	Rev   int64     `json:"rev,omitempty"` // its create revision
	Until time.Time `json:"until"`         // the lease ends then
	Since time.Time `json:"since"`
}

// Keep moves the lock to a lease of its own that lasts ttl and outlives
// this process, with this server's record beside it, and ends the
// waiter's lease. A key that vanished meanwhile is a *LostError.
func (t *Ticket) Keep(ctx context.Context, lease clientv3.LeaseID, ttl time.Duration) (Hold, error) {
	now := t.c.clock.Now()
	e := t.entry
	e.State, e.Since, e.Until = StateHeld, now, now.Add(ttl)
	val, _ := json.Marshal(e)
	var ok bool
	err := t.c.call(ctx, func(ctx context.Context) error {
		resp, err := t.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(t.key), "=", t.rev)).
			Then(clientv3.OpPut(t.key, string(val), clientv3.WithLease(lease)),
				clientv3.OpPut(t.c.memberKey(), string(val), clientv3.WithLease(lease))).Commit()
		if err == nil {
			ok = resp.Succeeded
		}
		return err
	})
	if err != nil {
		return Hold{}, err
	}
	if !ok {
		return Hold{}, &LostError{Cluster: t.c.cfg.Name}
	}
	t.Drop(ctx) // the key is on the freeze's lease now: revoking the waiter's deletes nothing
	return Hold{Lease: int64(lease), Key: t.key, Rev: t.rev, Until: e.Until, Since: now}, nil
}

// Grant makes the lease of a freeze: it lasts ttl, whole seconds rounded
// up, and nothing keeps it alive.
func (c *Cluster) Grant(ctx context.Context, cli *clientv3.Client, ttl time.Duration) (clientv3.LeaseID, error) {
	var resp *clientv3.LeaseGrantResponse
	err := c.call(ctx, func(ctx context.Context) (err error) {
		resp, err = cli.Grant(ctx, int64((ttl+time.Second-1)/time.Second))
		return err
	})
	if err != nil {
		return 0, err
	}
	return resp.ID, nil
}

// Record writes this server's record of an online freeze by caller, on
// the lease: it takes no lock (no outage), but mates and check see it.
func (c *Cluster) Record(ctx context.Context, cli *clientv3.Client, caller string, lease clientv3.LeaseID, ttl time.Duration) (Hold, error) {
	e := c.entry(caller, ModeOnline)
	e.State, e.Until = StateHeld, e.Since.Add(ttl)
	val, _ := json.Marshal(e)
	err := c.call(ctx, func(ctx context.Context) error {
		_, err := cli.Put(ctx, c.memberKey(), string(val), clientv3.WithLease(lease))
		return err
	})
	return Hold{Lease: int64(lease), Until: e.Until, Since: e.Since}, err
}

// Release ends a hold: its lease is revoked, which deletes the lock's key
// and the record at once. A lease already gone is released.
func (c *Cluster) Release(ctx context.Context, cli *clientv3.Client, h Hold) error {
	err := c.call(context.WithoutCancel(ctx), func(ctx context.Context) error {
		_, err := cli.Revoke(ctx, clientv3.LeaseID(h.Lease))
		return err
	})
	if err != nil && gone(err) {
		return nil
	}
	return err
}

// Extend moves a hold to a new lease that lasts ttl (the freeze's
// deadline moved: a caller joined): the lock keeps its place. A hold
// whose key is gone (its lease ended) cannot be extended.
func (c *Cluster) Extend(ctx context.Context, cli *clientv3.Client, h Hold, ttl time.Duration) (Hold, error) {
	lease, err := c.Grant(ctx, cli, ttl)
	if err != nil {
		return h, err
	}
	var resp *clientv3.GetResponse
	key := h.Key
	if key == "" {
		key = c.memberKey()
	}
	if err := c.call(ctx, func(ctx context.Context) (err error) {
		resp, err = cli.Get(ctx, key)
		return err
	}); err != nil {
		return h, err
	}
	if len(resp.Kvs) == 0 || resp.Kvs[0].Lease != h.Lease {
		_ = c.Release(ctx, cli, Hold{Lease: int64(lease)})
		return h, &LostError{Cluster: c.cfg.Name}
	}
	var e Entry
	_ = json.Unmarshal(resp.Kvs[0].Value, &e)
	e.Until = c.clock.Now().Add(ttl)
	val, _ := json.Marshal(e)
	ops := []clientv3.Op{clientv3.OpPut(c.memberKey(), string(val), clientv3.WithLease(lease))}
	if h.Key != "" {
		ops = append(ops, clientv3.OpPut(h.Key, string(val), clientv3.WithLease(lease)))
	}
	var ok bool
	err = c.call(ctx, func(ctx context.Context) error {
		r, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.LeaseValue(key), "=", h.Lease)).Then(ops...).Commit()
		if err == nil {
			ok = r.Succeeded
		}
		return err
	})
	if err != nil || !ok {
		_ = c.Release(ctx, cli, Hold{Lease: int64(lease)})
		if err == nil {
			err = &LostError{Cluster: c.cfg.Name}
		}
		return h, err
	}
	_ = c.Release(ctx, cli, Hold{Lease: h.Lease}) // nothing is on it any more
	h.Lease, h.Until = int64(lease), e.Until
	return h, nil
}

// gone reports whether err says the lease does not exist (any more).
func gone(err error) bool {
	return errors.Is(err, rpctypes.ErrLeaseNotFound) || strings.Contains(err.Error(), rpctypes.ErrLeaseNotFound.Error())
}

// View is the cluster as etcd holds it: the lock's queue and the
// members' records.
type View struct {
	Holders []Entry // holding the lock, first granted first
	Waiting []Entry
	Members []Entry // every server's record of a freeze in place
}

// Read reads the cluster's lock and records.
func (c *Cluster) Read(ctx context.Context, cli *clientv3.Client) (View, error) {
	all, _, err := c.queue(ctx, cli)
	if err != nil {
		return View{}, err
	}
	var v View
	for i, e := range all {
		if i < c.cfg.MaxDown {
			v.Holders = append(v.Holders, e)
		} else {
			v.Waiting = append(v.Waiting, e)
		}
	}
	var resp *clientv3.GetResponse
	if err := c.call(ctx, func(ctx context.Context) (err error) {
		resp, err = cli.Get(ctx, c.memberPrefix(), clientv3.WithPrefix())
		return err
	}); err != nil {
		return View{}, err
	}
	for _, kv := range resp.Kvs {
		var e Entry
		if json.Unmarshal(kv.Value, &e) == nil {
			e.Key, e.Lease = string(kv.Key), kv.Lease
			v.Members = append(v.Members, e)
		}
	}
	sort.Slice(v.Members, func(i, j int) bool { return v.Members[i].Server < v.Members[j].Server })
	return v, nil
}
