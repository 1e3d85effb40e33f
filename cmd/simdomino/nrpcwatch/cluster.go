package nrpcwatch

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
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
	ok, failed atomic.Int64
	served     []atomic.Int64 // opens each server served
	done       chan struct{}
	wg         sync.WaitGroup
}

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
			i, ok := c.open(ports, last)
			if !ok {
				c.failed.Add(1)
				continue
			}
			last = i
			c.ok.Add(1)
			c.served[i].Add(1)
		}
	}()
	return c
}

// open tries the servers in turn from the one used last; it returns the
// one that served.
func (c *Cluster) open(ports []int, last int) (int, bool) {
	for k := range ports {
		i := (last + k) % len(ports)
		if serves(ports[i]) {
			return i, true
		}
	}
	return 0, false
}

// serves reports whether the server on port accepts a new database open:
// it answers, unrestricted.
func serves(port int) bool {
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "NRPC ") && !strings.Contains(line, Restricted)
}

// End ends the client and returns its counts: opens some mate served,
// opens none did, and how many each server served (in the order of the
// ports).
func (c *Cluster) End() (ok, failed int64, served []int64) {
	close(c.done)
	c.wg.Wait()
	for i := range c.served {
		served = append(served, c.served[i].Load())
	}
	return c.ok.Load(), c.failed.Load(), served
}
