//go:build !windows

package cluster

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/core/cluster/etcdtest"
	"github.com/quiesce/quiesce/core/config"
)

func TestMain(m *testing.M) { simtest.Main(m) }

func testConfig(endpoints []string, mates ...string) config.Cluster {
	cfg := config.Cluster{Name: "mail", Endpoints: endpoints, Prefix: config.DefaultClusterPrefix, MaxDown: 1,
		Unreachable: config.UnreachableFail, Timeout: 3 * time.Second, LockWait: time.Minute, Drain: 0, Replicate: true}
	for _, m := range mates {
		cfg.Mates = append(cfg.Mates, config.Mate{Name: m, Addr: "127.0.0.1:1"})
	}
	return cfg
}

// server is one server's view of the cluster with a client of its own.
type server struct {
	c   *Cluster
	cli *clientv3.Client
}

func newServer(t *testing.T, cfg config.Cluster, self string) server {
	t.Helper()
	c := New(cfg, self, nil, nil)
	cli, err := dial(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return server{c: c, cli: cli}
}

// take acquires and keeps the lock for ttl.
func (s server) take(t *testing.T, ttl time.Duration) Hold {
	t.Helper()
	ctx := context.Background()
	tk, err := s.c.Acquire(ctx, s.cli, "veeam", time.Now().Add(10*time.Second), "test")
	if err != nil {
		t.Fatalf("%s: %v", s.c.self, err)
	}
	lease, err := s.c.Grant(ctx, s.cli, ttl)
	if err != nil {
		t.Fatal(err)
	}
	h, err := tk.Keep(ctx, lease, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestLockOneHolderAtATime(t *testing.T) {
	e := etcdtest.Start(t, etcdtest.Options{})
	cfg := testConfig(e.Endpoints(), "B", "C")
	a, b := newServer(t, cfg, "A"), newServer(t, cfg, "B")
	ctx := context.Background()
	h := a.take(t, time.Minute)

	began := time.Now()
	_, err := b.c.Acquire(ctx, b.cli, "vmware", time.Now().Add(time.Second), "all vmware's budget allows")
	var busy *BusyError
	if !errors.As(err, &busy) || len(busy.Holders) != 1 || busy.Holders[0].Server != "A" {
		t.Fatalf("B while A holds: %v, want a BusyError naming A", err)
	}
	if took := time.Since(began); took < time.Second || took > 3*time.Second {
		t.Errorf("B gave up after %s, want about the 1 s it was allowed", took)
	}
	msg := err.Error()
	for _, want := range []string{"cluster mail: the lock is held by A", "(stop freeze by veeam, host ", ") since ", "waited 1", "all vmware's budget allows", "): freeze refused"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("message is more than one line: %q", msg)
	}
	v, err := a.c.Read(ctx, a.cli)
	if err != nil || len(v.Holders) != 1 || len(v.Waiting) != 0 || len(v.Members) != 1 || v.Members[0].Mode != ModeStop {
		t.Fatalf("view after B gave up: %+v %v (B's key must be gone)", v, err)
	}

	// B waits; A's release wakes it at once.
	got := make(chan error, 1)
	go func() {
		tk, err := b.c.Acquire(ctx, b.cli, "vmware", time.Now().Add(20*time.Second), "test")
		if err == nil {
			tk.Drop(ctx)
		}
		got <- err
	}()
	time.Sleep(500 * time.Millisecond)
	released := time.Now()
	if err := a.c.Release(ctx, a.cli, h); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("B after A's release: %v", err)
	}
	if d := time.Since(released); d > time.Second {
		t.Errorf("B got the lock %s after A released it: the wait must wake on the release, not poll", d)
	}
	if err := a.c.Release(ctx, a.cli, h); err != nil {
		t.Errorf("releasing twice: %v, want nothing (the lease is gone)", err)
	}
}

// A host that dies with its freeze: nothing releases the lock, its lease
// ends it.
func TestLockEndsWithItsLease(t *testing.T) {
	simtest.Slow(t)
	e := etcdtest.Start(t, etcdtest.Options{})
	cfg := testConfig(e.Endpoints(), "B")
	a, b := newServer(t, cfg, "A"), newServer(t, cfg, "B")
	ctx := context.Background()
	h := a.take(t, 3*time.Second)
	a.cli.Close() // the host is gone: nothing revokes, nothing keeps alive
	tk, err := b.c.Acquire(ctx, b.cli, "veeam", time.Now().Add(15*time.Second), "test")
	if err != nil {
		t.Fatalf("B: %v", err)
	}
	defer tk.Drop(ctx)
	if late := time.Since(h.Until); late > 2*time.Second || late < -time.Second {
		t.Errorf("the lock passed to B %s after A's lease was to end, want within about a second", late)
	}
}

// A waiter that dies leaves the queue with its short lease: it never
// becomes a holder that nobody releases.
func TestLockDeadWaiterLeaves(t *testing.T) {
	simtest.Slow(t)
	e := etcdtest.Start(t, etcdtest.Options{})
	cfg := testConfig(e.Endpoints(), "B", "C")
	a, b, c := newServer(t, cfg, "A"), newServer(t, cfg, "B"), newServer(t, cfg, "C")
	ctx := context.Background()
	h := a.take(t, time.Minute)
	go func() { _, _ = b.c.Acquire(ctx, b.cli, "veeam", time.Now().Add(time.Minute), "test") }()
	simtest.Eventually(t, 5*time.Second, "B waits in the queue", func() bool {
		v, err := a.c.Read(ctx, a.cli)
		return err == nil && len(v.Waiting) == 1 && v.Waiting[0].Server == "B" && v.Waiting[0].State == StateWaiting
	})
	b.cli.Close() // B's process dies while it waits
	if err := a.c.Release(ctx, a.cli, h); err != nil {
		t.Fatal(err)
	}
	tk, err := c.c.Acquire(ctx, c.cli, "qemu", time.Now().Add(waitTTL+5*time.Second), "test")
	if err != nil {
		t.Fatalf("C after B died waiting: %v", err)
	}
	tk.Drop(ctx)
}

func TestLockMaxDown(t *testing.T) {
	e := etcdtest.Start(t, etcdtest.Options{})
	cfg := testConfig(e.Endpoints(), "B", "C")
	cfg.MaxDown = 2
	a, b, c := newServer(t, cfg, "A"), newServer(t, cfg, "B"), newServer(t, cfg, "C")
	ctx := context.Background()
	a.take(t, time.Minute)
	tk, err := b.c.Acquire(ctx, b.cli, "veeam", time.Now(), "test")
	if err != nil {
		t.Fatalf("B with max_down = 2 and A down: %v", err)
	}
	if len(tk.Others) != 1 || tk.Others[0].Server != "A" {
		t.Errorf("B's ticket: others %+v, want A", tk.Others)
	}
	defer tk.Drop(ctx)
	_, err = c.c.Acquire(ctx, c.cli, "veeam", time.Now(), "no wait")
	var busy *BusyError
	if !errors.As(err, &busy) || len(busy.Holders) != 2 {
		t.Fatalf("C with two down: %v, want busy naming A and B", err)
	}
}

// A join moves the deadline: the lock moves to a longer lease and keeps
// its place.
func TestLockExtend(t *testing.T) {
	e := etcdtest.Start(t, etcdtest.Options{})
	cfg := testConfig(e.Endpoints(), "B")
	a := newServer(t, cfg, "A")
	ctx := context.Background()
	h := a.take(t, 30*time.Second)
	h2, err := a.c.Extend(ctx, a.cli, h, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if h2.Lease == h.Lease || h2.Rev != h.Rev || !h2.Until.After(h.Until) {
		t.Errorf("extended %+v from %+v: want a new lease, the same place, a later end", h2, h)
	}
	ttl, err := a.cli.TimeToLive(ctx, clientv3.LeaseID(h2.Lease))
	if err != nil || ttl.TTL < 290 {
		t.Errorf("the new lease has %v s left (%v), want about 300", ttl.TTL, err)
	}
	v, err := a.c.Read(ctx, a.cli)
	if err != nil || len(v.Holders) != 1 || v.Holders[0].Lease != h2.Lease || v.Holders[0].Rev != h.Rev || len(v.Members) != 1 || v.Members[0].Lease != h2.Lease {
		t.Fatalf("after extend: %+v %v", v, err)
	}
	if err := a.c.Release(ctx, a.cli, h2); err != nil {
		t.Fatal(err)
	}
	if _, err := a.c.Extend(ctx, a.cli, h2, time.Minute); !errors.As(err, new(*LostError)) {
		t.Errorf("extending a released hold: %v, want a LostError", err)
	}
}

// etcd out of reach: every call ends within the contact timeout.
func TestLockUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := testConfig([]string{"http://" + addr}, "B")
	cfg.Timeout = time.Second
	a := newServer(t, cfg, "A")
	began := time.Now()
	_, err = a.c.Acquire(context.Background(), a.cli, "veeam", time.Now().Add(time.Minute), "test")
	var ue *UnreachableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "etcd does not answer within 1s ("+addr+": connect: connection refused)") {
		t.Fatalf("got %v, want an UnreachableError naming the endpoint", err)
	}
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("took %s with a 1 s contact timeout and a minute to wait: an unreachable etcd must not use up the wait", took)
	}
}

// etcd as it is usually run: TLS with client certificates.
func TestLockTLS(t *testing.T) {
	e := etcdtest.Start(t, etcdtest.Options{TLS: true})
	cfg := testConfig(e.Endpoints(), "B")
	cfg.CAFile, cfg.CertFile, cfg.KeyFile = e.Certs.CA, e.Certs.ClientCert, e.Certs.ClientKey
	a := newServer(t, cfg, "A")
	h := a.take(t, time.Minute)
	if err := a.c.Release(context.Background(), a.cli, h); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*config.Cluster){
		"no client certificate": func(c *config.Cluster) { c.CertFile, c.KeyFile = "", "" },
		"another CA":            func(c *config.Cluster) { c.CAFile = e.Certs.OtherCA },
	} {
		bad := cfg
		bad.Timeout = time.Second
		mod(&bad)
		s := newServer(t, bad, "A")
		_, err := s.c.Acquire(context.Background(), s.cli, "veeam", time.Now(), "test")
		if !errors.As(err, new(*UnreachableError)) {
			t.Errorf("%s: got %v, want etcd unreachable", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
	bad := cfg
	bad.CAFile = "/nonexistent/ca.pem"
	if _, err := dial(bad); err == nil || !strings.Contains(err.Error(), "[cluster] ca_file: open /nonexistent/ca.pem") {
		t.Errorf("missing CA file: %v", err)
	}
}

// The leader of a three-node etcd dies while A holds the lock: the
// survivors keep it, A's release goes through them, B gets it.
func TestLockLeaderKilled(t *testing.T) {
	simtest.Slow(t)
	e := etcdtest.Start(t, etcdtest.Options{Nodes: 3})
	cfg := testConfig(e.Endpoints(), "B")
	a, b := newServer(t, cfg, "A"), newServer(t, cfg, "B")
	ctx := context.Background()
	h := a.take(t, time.Minute)
	got := make(chan error, 1)
	go func() {
		tk, err := b.c.Acquire(ctx, b.cli, "veeam", time.Now().Add(30*time.Second), "test")
		if err == nil {
			tk.Drop(ctx)
		}
		got <- err
	}()
	time.Sleep(300 * time.Millisecond)
	e.KillNode(e.Leader())
	select {
	case err := <-got:
		t.Fatalf("B got an answer while A holds the lock and the leader is gone: %v", err)
	case <-time.After(2 * time.Second):
	}
	if err := a.c.Release(ctx, a.cli, h); err != nil {
		t.Fatalf("A's release through the survivors: %v", err)
	}
	if err := <-got; err != nil {
		t.Fatalf("B after the release: %v", err)
	}
}
