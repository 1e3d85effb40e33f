package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"

	"github.com/quiesce/quiesce/core/config"
)

// dial makes a client of the cluster's etcd. The client connects in the
// background: dial itself never waits for etcd, every call does, bounded
// by its context (etcd's client waits for a connection until then).
func dial(cfg config.Cluster) (*clientv3.Client, error) {
	tlsCfg, err := tlsConfig(cfg)
	if err != nil {
		return nil, err
	}
	return clientv3.New(clientv3.Config{
		Endpoints:            cfg.Endpoints,
		DialTimeout:          cfg.Timeout,
		DialKeepAliveTime:    cfg.Timeout,
		DialKeepAliveTimeout: cfg.Timeout,
		TLS:                  tlsCfg,
		// quiesce logs what each contact with etcd came to; the client's
		// own retries would flood the log and the caller's stream.
		Logger: zap.NewNop(),
	})
}

// tlsConfig is the client's TLS: with an https endpoint, etcd's server
// certificate checked against ca_file (else the system's roots), and the
// client certificate when one is configured.
func tlsConfig(cfg config.Cluster) (*tls.Config, error) {
	secure := false
	for _, e := range cfg.Endpoints {
		secure = secure || strings.HasPrefix(e, "https://")
	}
	if !secure {
		return nil, nil
	}
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, &SetupError{Key: "ca_file", Err: err}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &SetupError{Key: "ca_file", Err: fmt.Errorf("%s holds no PEM certificate", cfg.CAFile)}
		}
		t.RootCAs = pool
	}
	if cfg.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, &SetupError{Key: "cert_file", Err: err}
		}
		t.Certificates = []tls.Certificate{cert}
	}
	return t, nil
}

// SetupError is a [cluster] setting that cannot be used as it is (a
// certificate that does not load).
type SetupError struct {
	Key string
	Err error
}

func (e *SetupError) Error() string { return fmt.Sprintf("[cluster] %s: %v", e.Key, e.Err) }
func (e *SetupError) Unwrap() error { return e.Err }

// UnreachableError is etcd not answering within the contact timeout.
type UnreachableError struct {
	Endpoints []string
	Timeout   time.Duration
	Err       error
	Why       string // what a connection of quiesce's own found, when it says more
}

func (e *UnreachableError) Error() string {
	why := strings.Join(e.Endpoints, ", ") + ": " + short(e.Err)
	if e.Why != "" {
		why = e.Why
	}
	return fmt.Sprintf("etcd does not answer within %s (%s)", e.Timeout, why)
}
func (e *UnreachableError) Unwrap() error { return e.Err }

// short says what an etcd call's error means, in a few words.
func short(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error() // "connect: connection refused", without the address said already
	}
	s := err.Error()
	if i := strings.LastIndex(s, "desc = "); i >= 0 {
		s = s[i+len("desc = "):]
	}
	return s
}

// call runs one etcd call bounded by the contact timeout: a freeze never
// waits on etcd longer than its budget allows (the wait for the lock
// keeps a contact timeout of the budget in reserve). A failure is an
// *UnreachableError; ctx's own end is its error.
func (c *Cluster) call(ctx context.Context, fn func(ctx context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	err := fn(cctx)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) && ee.Code() != codes.Unavailable && ee.Code() != codes.DeadlineExceeded && ee.Code() != codes.Canceled {
		return &RefusedError{Err: err}
	}
	return &UnreachableError{Endpoints: c.cfg.Endpoints, Timeout: c.cfg.Timeout, Err: err, Why: diagnose(c.cfg)}
}

// diagnose says why no endpoint answers, when a connection of its own
// shows it (etcd's client only says that its wait ended): the first
// endpoint's refused connection or failed TLS handshake; "" when each
// connects.
func diagnose(cfg config.Cluster) string {
	tlsCfg, err := tlsConfig(cfg)
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, e := range cfg.Endpoints {
		u, err := url.Parse(e)
		if err != nil {
			continue
		}
		d := &net.Dialer{Timeout: min(cfg.Timeout, 2*time.Second)}
		conn, err := d.Dial("tcp", u.Host)
		if err == nil && u.Scheme == "https" {
			tc := tls.Client(conn, tlsFor(tlsCfg, u.Hostname()))
			_ = tc.SetDeadline(time.Now().Add(d.Timeout))
			err = tc.Handshake()
			if err == nil {
				// etcd 3.4 asks for the client certificate and rejects a
				// missing or foreign one only after the handshake: a read
				// shows it.
				_, err = tc.Read(make([]byte, 1))
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					err = nil
				}
			}
			conn = tc
		}
		if conn != nil {
			conn.Close()
		}
		if err != nil {
			out = append(out, u.Host+": "+short(err))
		}
	}
	return strings.Join(out, "; ")
}

// tlsFor is cfg for a connection to host.
func tlsFor(cfg *tls.Config, host string) *tls.Config {
	c := cfg.Clone()
	c.ServerName = host
	c.NextProtos = []string{"h2"}
	return c
}

// RefusedError is etcd answering with an error of its own (a permission
// denied, a lease not found): it is reachable, it said no.
type RefusedError struct{ Err error }

func (e *RefusedError) Error() string { return "etcd refused: " + e.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Err }
