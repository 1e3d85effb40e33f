//go:build !windows

// Package etcdtest runs a real etcd for tests: Debian's etcd-server
// (/usr/bin/etcd, 3.4), started by the test on loopback ports with a
// temporary data directory, one node or a cluster of several, with or
// without TLS and client certificates. Nothing of the host's own etcd (a
// service on 2379/2380) is touched.
package etcdtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Binary is the etcd the tests run: $QUIESCE_TEST_ETCD, else etcd on the
// PATH; "" when there is none.
func Binary() string {
	if p := os.Getenv("QUIESCE_TEST_ETCD"); p != "" {
		return p
	}
	p, err := exec.LookPath("etcd")
	if err != nil {
		return ""
	}
	return p
}

// Require skips a test when etcd is not installed, loudly, and fails it
// in CI (CI=true), where .ci/run installs it.
func Require(t testing.TB) string {
	t.Helper()
	p := Binary()
	if p != "" {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("REQUIRED IN CI: etcd (Debian's etcd-server, installed by .ci/run)")
	}
	t.Skip("SKIPPED (would fail in CI): etcd is not installed (apt-get install etcd-server)")
	return ""
}

// Options shape a cluster.
type Options struct {
	Nodes int  // 1 when 0
	TLS   bool // clients connect over TLS with client certificates
}

// Cluster is a running etcd cluster.
type Cluster struct {
	t     testing.TB
	bin   string
	dir   string
	Nodes []*Node
	Certs *Certs // with TLS
}

// Node is one member.
type Node struct {
	Name       string
	ClientURL  string
	PeerURL    string
	DataDir    string
	LogFile    string
	cmd        *exec.Cmd
	done       chan struct{}
	args       []string
	clientPort int
}

// Start starts a cluster and waits until it serves; every node is killed
// when the test ends.
func Start(t testing.TB, o Options) *Cluster {
	t.Helper()
	bin := Require(t)
	if o.Nodes == 0 {
		o.Nodes = 1
	}
	dir := t.TempDir()
	c := &Cluster{t: t, bin: bin, dir: dir}
	scheme := "http"
	if o.TLS {
		c.Certs = NewCerts(t, filepath.Join(dir, "certs"))
		scheme = "https"
	}
	var initial []string
	for i := 0; i < o.Nodes; i++ {
		cp, pp := freePort(t), freePort(t)
		n := &Node{Name: fmt.Sprintf("n%d", i+1), ClientURL: fmt.Sprintf("%s://127.0.0.1:%d", scheme, cp), PeerURL: fmt.Sprintf("http://127.0.0.1:%d", pp),
			DataDir: filepath.Join(dir, fmt.Sprintf("n%d", i+1)), LogFile: filepath.Join(dir, fmt.Sprintf("n%d.log", i+1)), clientPort: cp}
		c.Nodes = append(c.Nodes, n)
		initial = append(initial, n.Name+"="+n.PeerURL)
	}
	for _, n := range c.Nodes {
		n.args = []string{"--name", n.Name, "--data-dir", n.DataDir,
			"--listen-client-urls", n.ClientURL, "--advertise-client-urls", n.ClientURL,
			"--listen-peer-urls", n.PeerURL, "--initial-advertise-peer-urls", n.PeerURL,
			"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-state", "new",
			"--initial-cluster-token", filepath.Base(dir), "--logger", "zap", "--log-outputs", n.LogFile,
			"--unsafe-no-fsync", "--heartbeat-interval", "50", "--election-timeout", "500"}
		if c.Certs != nil {
			n.args = append(n.args, "--cert-file", c.Certs.ServerCert, "--key-file", c.Certs.ServerKey,
				"--trusted-ca-file", c.Certs.CA, "--client-cert-auth")
		}
		c.start(n)
	}
	t.Cleanup(c.Kill)
	c.WaitReady(30 * time.Second)
	return c
}

func (c *Cluster) start(n *Node) {
	c.t.Helper()
	cmd := exec.Command(c.bin, n.args...)
	cmd.Env = os.Environ()
	if runtime.GOARCH == "arm64" {
		cmd.Env = append(cmd.Env, "ETCD_UNSUPPORTED_ARCH=arm64")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("etcd: %v", err)
	}
	n.cmd, n.done = cmd, make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(n.done)
}

// Endpoints are the client URLs of every node.
func (c *Cluster) Endpoints() []string {
	var out []string
	for _, n := range c.Nodes {
		out = append(out, n.ClientURL)
	}
	return out
}

// Client is a client of the whole cluster, closed when the test ends.
func (c *Cluster) Client() *clientv3.Client {
	c.t.Helper()
	cfg := clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()}
	if c.Certs != nil {
		cfg.TLS = c.Certs.ClientTLS(c.t)
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { cli.Close() })
	return cli
}

// WaitReady waits until every running node answers and a leader is
// elected.
func (c *Cluster) WaitReady(limit time.Duration) {
	c.t.Helper()
	cli := c.Client()
	deadline := time.Now().Add(limit)
	for _, n := range c.Nodes {
		if !n.Running() {
			continue
		}
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			st, err := cli.Status(ctx, n.ClientURL)
			cancel()
			if err == nil && st.Leader != 0 {
				break
			}
			if time.Now().After(deadline) {
				log, _ := os.ReadFile(n.LogFile)
				c.t.Fatalf("etcd %s not ready within %s: %v\n%s", n.Name, limit, err, tail(string(log), 20))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// Leader is the index of the node that leads now.
func (c *Cluster) Leader() int {
	c.t.Helper()
	cli := c.Client()
	for i, n := range c.Nodes {
		if !n.Running() {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := cli.Status(ctx, n.ClientURL)
		cancel()
		if err == nil && st.Header.MemberId == st.Leader {
			return i
		}
	}
	c.t.Fatal("etcd: no node leads")
	return -1
}

// Running reports whether the node's process runs.
func (n *Node) Running() bool {
	if n.cmd == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// KillNode SIGKILLs node i, as a crash would.
func (c *Cluster) KillNode(i int) {
	n := c.Nodes[i]
	if n.Running() {
		_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
		<-n.done
	}
}

// Pause stops every node (SIGSTOP): connections are still accepted by
// the kernel, nothing answers, as with a host that hangs. Resume, or the
// end of the test, continues them.
func (c *Cluster) Pause() {
	for _, n := range c.Nodes {
		if n.Running() {
			_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGSTOP)
		}
	}
}

// Resume continues the nodes Pause stopped.
func (c *Cluster) Resume() {
	for _, n := range c.Nodes {
		if n.Running() {
			_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGCONT)
		}
	}
}

// Kill SIGKILLs every node.
func (c *Cluster) Kill() {
	for i := range c.Nodes {
		c.KillNode(i)
	}
}

// Restart starts the stopped nodes again (their data is kept) and waits
// until the cluster serves.
func (c *Cluster) Restart() {
	c.t.Helper()
	for _, n := range c.Nodes {
		if !n.Running() {
			args := append([]string(nil), n.args...)
			for i, a := range args {
				if a == "new" && i > 0 && args[i-1] == "--initial-cluster-state" {
					args[i] = "existing"
				}
			}
			n.args = args
			c.start(n)
		}
	}
	c.WaitReady(30 * time.Second)
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
