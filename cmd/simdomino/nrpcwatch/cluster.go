package nrpcwatch

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Restricted ends the NRPC greeting of a server whose Server_Restricted
// is set: it accepts the connection but opens no new database, so a
// client goes to a mate.
const Restricted = "RESTRICTED"

// Cluster is a client of a Domino cluster, as Domino's cluster failover
// is: each open goes to the server it used last, and when that one does
// not answer or is restricted, to the next mate that serves. An open that
// no mate serves is an outage a user would have seen.
type Cluster struct {
	ok, failed, slow atomic.Int64
	served           []atomic.Int64 // opens each server served
	done             chan struct{}
	wg               sync.WaitGroup
}

// Counts are what a Cluster client saw.
type Counts struct {
	OK     int64   // opens some mate served
	Failed int64   // opens every mate refused (or was restricted): an outage
	Slow   int64   // opens no mate served, one of them only without an answer within a second (a loaded machine, not proof that none serves)
	Served []int64 // opens each server served, in the order of the ports
}

// how a server took an open
type answer int

const (
	served answer = iota
	refused
	noAnswer
)

// StartCluster opens a database every 5 ms on the mates at 127.0.0.1 on
// ports, until End.
func StartCluster(ports []int) *Cluster {
	c := &Cluster{served: make([]atomic.Int64, len(ports)), done: make(chan struct{})}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		last := 0
		for {
			select {
			case <-c.done:
				return
			case <-time.After(5 * time.Millisecond):
			}
			i, a := c.open(ports, last)
			switch a {
			case refused:
				c.failed.Add(1)
			case noAnswer:
				c.slow.Add(1)
			default:
				last = i
				c.ok.Add(1)
				c.served[i].Add(1)
			}
		}
	}()
	return c
}

// open tries the servers in turn from the one used last; it returns the
// one that served, or why none did: noAnswer when one of them did not
// answer in time, else refused.
func (c *Cluster) open(ports []int, last int) (int, answer) {
	worst := refused
	for k := range ports {
		i := (last + k) % len(ports)
		switch serves(ports[i]) {
		case served:
			return i, served
		case noAnswer:
			worst = noAnswer
		}
	}
	return 0, worst
}

// serves says whether the server on port accepts a new database open: it
// answers, unrestricted.
func serves(port int) answer {
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if errors.Is(err, syscall.ECONNREFUSED) {
		return refused
	}
	if err != nil {
		return noAnswer
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return noAnswer
	case err != nil || !strings.HasPrefix(line, "NRPC ") || strings.Contains(line, Restricted):
		return refused // closed without a greeting (shutting down), or restricted
	}
	return served
}

// End ends the client and returns what it saw.
func (c *Cluster) End() Counts {
	close(c.done)
	c.wg.Wait()
	return c.Counts()
}

// Counts is what the client saw so far.
func (c *Cluster) Counts() Counts {
	n := Counts{OK: c.ok.Load(), Failed: c.failed.Load(), Slow: c.slow.Load()}
	for i := range c.served {
		n.Served = append(n.Served, c.served[i].Load())
	}
	return n
}
