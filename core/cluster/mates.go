package cluster

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/quiesce/quiesce/core/config"
)

// probeTimeout bounds one NRPC probe of a mate: a refused connection
// answers at once, a host that is gone does not answer at all.
const probeTimeout = 3 * time.Second

// MateState is what this server knows of a mate: whether it answers on
// NRPC, and its freeze recorded in etcd (nil: none).
type MateState struct {
	Mate    config.Mate
	Serving bool
	Err     error  // why it does not answer
	Frozen  *Entry // its stop-mode freeze: it holds the lock (or its record says so)
	Online  *Entry // its online freeze (it serves)
}

// Probe connects to every mate's NRPC port at once.
func (c *Cluster) Probe(ctx context.Context) []MateState {
	out := make([]MateState, len(c.cfg.Mates))
	var wg sync.WaitGroup
	for i, m := range c.cfg.Mates {
		out[i].Mate = m
		wg.Add(1)
		go func(st *MateState) {
			defer wg.Done()
			st.Err = probe(ctx, st.Mate.Addr)
			st.Serving = st.Err == nil
		}(&out[i])
	}
	wg.Wait()
	return out
}

// probe connects to addr, as a Domino client would.
func probe(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: probeTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return conn.Close()
}

// withView adds what etcd holds of each mate: its place among the lock's
// holders, its record.
func withView(ms []MateState, v View) []MateState {
	for i := range ms {
		for _, e := range v.Holders {
			if sameServer(e.Server, ms[i].Mate.Name) {
				e := e
				ms[i].Frozen = &e
			}
		}
		for _, e := range v.Members {
			if !sameServer(e.Server, ms[i].Mate.Name) {
				continue
			}
			e := e
			switch {
			case e.Mode == ModeOnline:
				ms[i].Online = &e
			case ms[i].Frozen == nil:
				ms[i].Frozen = &e
			}
		}
	}
	return ms
}

func sameServer(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// Down are the mates that are down or stopped for a freeze.
func Down(ms []MateState) []MateState {
	var out []MateState
	for _, m := range ms {
		if !m.Serving || m.Frozen != nil {
			out = append(out, m)
		}
	}
	return out
}

// Describe says in a few words how the mate is.
func (m MateState) Describe() string {
	switch {
	case m.Frozen != nil && !m.Serving:
		return fmt.Sprintf("%s (%s) is stopped for a freeze (%s since %s)", m.Mate.Name, m.Mate.Addr, m.Frozen.freeze(), m.Frozen.Since.Local().Format(time.DateTime))
	case m.Frozen != nil:
		return fmt.Sprintf("%s (%s) holds the lock for a freeze (%s since %s)", m.Mate.Name, m.Mate.Addr, m.Frozen.freeze(), m.Frozen.Since.Local().Format(time.DateTime))
	case !m.Serving:
		return fmt.Sprintf("%s (%s) does not answer on NRPC (%s)", m.Mate.Name, m.Mate.Addr, short(m.Err))
	case m.Online != nil:
		return fmt.Sprintf("%s (%s) serves, frozen online (%s since %s)", m.Mate.Name, m.Mate.Addr, m.Online.freeze(), m.Online.Since.Local().Format(time.DateTime))
	}
	return fmt.Sprintf("%s (%s) serves", m.Mate.Name, m.Mate.Addr)
}

// MateDownError is a stop refused because it would take down more of the
// cluster than max_down allows: a mate that does not answer, or that is
// stopped for a freeze of its own.
type MateDownError struct {
	Cluster string
	MaxDown int
	Mates   int // how many mates the server has
	Down    []MateState
}

func (e *MateDownError) Error() string {
	var what []string
	for _, m := range e.Down {
		what = append(what, m.Describe())
	}
	limit := fmt.Sprintf("stopping this server would leave %d of the cluster's %d servers down, max_down is %d", len(e.Down)+1, e.Mates+1, e.MaxDown)
	if len(e.Down) >= e.Mates {
		limit = "this is the last serving server of the cluster"
	}
	return fmt.Sprintf("cluster %s: mate %s: %s; freeze refused", e.Cluster, strings.Join(what, "; mate "), limit)
}
