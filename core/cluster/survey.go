package cluster

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/quiesce/quiesce/core/freeze"
)

// Survey is the cluster as check shows it: whether etcd answers, the
// lock and the records it holds, and how every mate is.
type Survey struct {
	Err      error         // etcd did not answer (*UnreachableError), said no (*RefusedError), or the client cannot be set up (*SetupError)
	Version  string        // etcd's version, from the first endpoint that answered
	Endpoint string        // that endpoint
	Took     time.Duration // the read of the lock and the records
	View     View
	Mates    []MateState
}

// Survey reads the lock and the records, and probes every mate; each
// contact with etcd is bounded by etcd_timeout.
func (c *Cluster) Survey(ctx context.Context) Survey {
	var s Survey
	cli, err := dial(c.cfg)
	if err != nil {
		s.Err = err
		s.Mates = c.Probe(ctx)
		return s
	}
	defer cli.Close()
	began := c.clock.Now()
	s.View, s.Err = c.Read(ctx, cli)
	s.Took = c.clock.Now().Sub(began)
	if s.Err == nil {
		s.Version, s.Endpoint = c.version(ctx, cli)
	}
	s.Mates = withView(c.Probe(ctx), s.View)
	return s
}

// version is etcd's version and the endpoint that said it; "" when none
// answers within etcd_timeout.
func (c *Cluster) version(ctx context.Context, cli *clientv3.Client) (string, string) {
	for _, e := range c.cfg.Endpoints {
		var st *clientv3.StatusResponse
		if c.call(ctx, func(ctx context.Context) (err error) { st, err = cli.Status(ctx, e); return err }) == nil {
			return st.Version, e
		}
	}
	return "", ""
}

// LockWait is how long a stop-mode freeze by c waits for the lock at
// most, when the freeze's deadline window is window, and what limits it.
func (m *Stop) LockWait(c freeze.Caller, window time.Duration) (time.Duration, string) {
	return m.waitFor(c, 0, window, window)
}
