//go:build linux

package conformance

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/nrpcwatch"
	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/cmd/simdomino/timeline"
	"github.com/quiesce/quiesce/core/cluster/etcdtest"
)

// A Domino cluster on one host for the cluster lock's tests: simulated
// servers as the mates (each its own installation, port, quiesce
// configuration and state directory, named Mail1/Acme, Mail2/Acme, ...
// in notes.ini), and a real etcd (etcdtest) that every quiesce shares.

// mate is one server of the cluster with its quiesce.
type mate struct {
	*rig
	name    string // its Domino name (notes.ini ServerName)
	cfg     string // its quiesce configuration
	metrics string // its metrics file, with clusterOptions.metrics
}

// clusterRig is the cluster.
type clusterRig struct {
	t     *testing.T
	etcd  *etcdtest.Cluster
	mates []*mate
}

// clusterOptions shape the cluster's configuration.
type clusterOptions struct {
	mates   int
	domino  string // [domino] keys; "" for the soak's short timeouts
	freeze  string // further [freeze] keys
	cluster string // further [cluster] keys
	budgets string // a [budgets] section's keys
	online  bool   // the first mate freezes online (Domino Backup, method = online)
	metrics bool   // each mate writes node_exporter's textfile (mate.metrics)
}

// newClusterRig installs o.mates servers in one cluster on etcd e.
func newClusterRig(t *testing.T, e *etcdtest.Cluster, o clusterOptions) *clusterRig {
	t.Helper()
	if o.domino == "" {
		o.domino = "shutdown_timeout = 5s\nkill_wait = 2s\nstart_timeout = 20s\n"
	}
	cr := &clusterRig{t: t, etcd: e}
	for i := 0; i < o.mates; i++ {
		extra := o.freeze
		if o.budgets != "" {
			extra += "\n[budgets]\n" + o.budgets
		}
		textfiles := ""
		if o.metrics {
			textfiles = t.TempDir()
			extra += "\n[metrics]\ntextfile_dir = " + textfiles + "\n"
		}
		so := simtest.Options{ShutdownSeconds: 0.3, StartSeconds: 0.2, Tasks: "update,router"}
		var r *rig
		if o.online && i == 0 {
			r = newOnlineRig(t, so, "online")
		} else {
			r = newRigWith(t, so, "fail", o.domino, extra)
		}
		m := &mate{rig: r, name: fmt.Sprintf("Mail%d/Acme", i+1), cfg: strings.TrimPrefix(r.env[0], "QUIESCE_CONFIG=")}
		if textfiles != "" {
			m.metrics = filepath.Join(textfiles, "quiesce.prom")
		}
		m.sim.SetIni("ServerName", m.name)
		cr.mates = append(cr.mates, m)
	}
	for _, m := range cr.mates {
		cr.writeCluster(m, o.cluster)
	}
	return cr
}

// writeCluster appends m's [cluster] section: every other server as a
// mate, and etcd's endpoints (with the client certificate over TLS).
func (cr *clusterRig) writeCluster(m *mate, extra string) {
	var others []string
	for _, o := range cr.mates {
		if o != m {
			others = append(others, fmt.Sprintf("%s@127.0.0.1:%d", o.name, o.sim.Port))
		}
	}
	sec := fmt.Sprintf("\n[cluster]\nname = mail\nmates = %s\nendpoints = %s\netcd_timeout = 2s\nlock_wait = 2m\ndrain = 300ms\n",
		strings.Join(others, ", "), strings.Join(cr.etcd.Endpoints(), ", "))
	if c := cr.etcd.Certs; c != nil {
		sec += fmt.Sprintf("ca_file = %s\ncert_file = %s\nkey_file = %s\n", c.CA, c.ClientCert, c.ClientKey)
	}
	f, err := os.OpenFile(m.cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		cr.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(sec + extra); err != nil {
		cr.t.Fatal(err)
	}
}

// setCluster replaces a [cluster] key of m's configuration.
func (m *mate) setCluster(t *testing.T, key, value string) {
	t.Helper()
	b, err := os.ReadFile(m.cfg)
	if err != nil {
		t.Fatal(err)
	}
	head, sec, _ := strings.Cut(string(b), "\n[cluster]\n")
	var lines []string
	for _, l := range strings.Split(sec, "\n") {
		if k, _, ok := strings.Cut(l, "="); !ok || strings.TrimSpace(k) != key {
			lines = append(lines, l)
		}
	}
	lines = append(lines, key+" = "+value)
	if err := os.WriteFile(m.cfg, []byte(head+"\n[cluster]\n"+strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ports are the mates' NRPC ports, in order.
func (cr *clusterRig) ports() []int {
	var out []int
	for _, m := range cr.mates {
		out = append(out, m.sim.Port)
	}
	return out
}

// start starts every server and a client that fails over between them.
func (cr *clusterRig) start() *nrpcwatch.Cluster {
	cr.t.Helper()
	for _, m := range cr.mates {
		m.startServer(cr.t)
	}
	return nrpcwatch.StartCluster(cr.ports())
}

// run is one quiesce command of m's, as a caller runs it: its exit code
// and its output (stdout and stderr).
func (m *mate) run(args ...string) (int, string) {
	cmd := exec.Command(m.bin, args...)
	cmd.Env = append(os.Environ(), m.env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	_ = cmd.Run()
	return cmd.ProcessState.ExitCode(), out.String()
}

// runKilled starts a quiesce command of m's and SIGKILLs it when until
// says so (polled every 10 ms), as a crash would. It reports whether it
// was killed, or else how the command ended by itself.
func (m *mate) runKilled(t *testing.T, until func() bool, args ...string) (killed bool, code int, out string) {
	t.Helper()
	cmd := exec.Command(m.bin, args...)
	cmd.Env = append(os.Environ(), m.env...)
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	for {
		select {
		case <-done:
			return false, cmd.ProcessState.ExitCode(), b.String()
		case <-time.After(10 * time.Millisecond):
		}
		if until() {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done
			return true, -1, b.String()
		}
	}
}

// stateDir is m's state directory.
func (m *mate) stateDir() string { return filepath.Join(filepath.Dir(m.cfg), "state") }

// events are m's timeline events named one of names.
func (m *mate) events(names ...string) []timeline.Event {
	var out []timeline.Event
	evs, _ := timeline.Read(m.sim.Data)
	for _, ev := range evs {
		for _, n := range names {
			if ev.Name == n {
				out = append(out, ev)
			}
		}
	}
	return out
}

// stopped is whether m's timeline shows a shutdown since since.
func (m *mate) stopped(since time.Time) bool {
	_, ok := timeline.Last(m.events(timeline.ShutdownRequested), timeline.ShutdownRequested, since)
	return ok
}

// outage is one server's time down, from its timeline: from the
// shutdown's request until it was ready again (a superset of the time it
// did not serve).
type outage struct {
	mate     string
	from, to time.Time
}

// outages are every mate's outages; one not over yet ends now.
func (cr *clusterRig) outages() []outage {
	var out []outage
	for _, m := range cr.mates {
		var down *outage
		for _, ev := range m.events(timeline.ShutdownRequested, timeline.Ready, timeline.NsdKill, timeline.Crashed) {
			switch {
			case ev.Name != timeline.Ready && down == nil:
				down = &outage{mate: m.name, from: ev.Time}
			case ev.Name == timeline.Ready && down != nil:
				down.to = ev.Time
				out = append(out, *down)
				down = nil
			}
		}
		if down != nil {
			down.to = time.Now()
			out = append(out, *down)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].from.Before(out[j].from) })
	return out
}

// overlaps are the moments more than max servers were down at once: the
// cluster's promise, read from the servers' own timelines.
func (cr *clusterRig) overlaps(max int) []string {
	var bad []string
	outs := cr.outages()
	for i, o := range outs {
		n, with := 1, []string{o.mate}
		for j, p := range outs {
			if j != i && !p.from.After(o.from) && p.to.After(o.from) {
				n++
				with = append(with, fmt.Sprintf("%s (down %s to %s)", p.mate, p.from.Format("15:04:05.000"), p.to.Format("15:04:05.000")))
			}
		}
		if n > max {
			bad = append(bad, fmt.Sprintf("at %s %d servers down: %s", o.from.Format("15:04:05.000"), n, strings.Join(with, ", ")))
		}
	}
	return bad
}

// replicated are the mates m asked to replicate with since since.
func (m *mate) replicated(since time.Time) []string {
	var out []string
	for _, ev := range m.events(timeline.Replicate) {
		if !ev.Time.Before(since) {
			out = append(out, ev.Detail)
		}
	}
	return out
}

// restrictions are m's Server_Restricted values set since since, in
// order.
func (m *mate) restrictions(since time.Time) string {
	var out []string
	for _, ev := range m.events(timeline.Restricted) {
		if !ev.Time.Before(since) {
			out = append(out, ev.Detail)
		}
	}
	return strings.Join(out, ",")
}
