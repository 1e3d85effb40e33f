// Package nrpcwatch is a client that connects to a server's NRPC port
// again and again while it runs, and counts what it saw: every refused
// connection is an outage. The demo and the online tests use it.
package nrpcwatch

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Watch is one running client.
type Watch struct {
	ok, refused, slow atomic.Int64 // slow: no answer within a second (a loaded machine), not refused
	done              chan struct{}
	wg                sync.WaitGroup
}

// Start connects to 127.0.0.1:port every 5 ms until Stop.
func Start(port int) *Watch {
	w := &Watch{done: make(chan struct{})}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		for {
			select {
			case <-w.done:
				return
			case <-time.After(5 * time.Millisecond):
			}
			conn, err := net.DialTimeout("tcp", addr, time.Second)
			switch {
			case errors.Is(err, syscall.ECONNREFUSED):
				w.refused.Add(1)
			case err != nil:
				w.slow.Add(1)
			default:
				w.ok.Add(1)
				conn.Close()
			}
		}
	}()
	return w
}

// Stop ends the client and returns its counts: connections accepted,
// refused, and left without an answer for a second.
func (w *Watch) Stop() (ok, refused, slow int64) {
	close(w.done)
	w.wg.Wait()
	return w.ok.Load(), w.refused.Load(), w.slow.Load()
}

// End ends the client for a test that counts every connection that did not
// succeed as an outage a user would have seen: connections accepted, and
// failed (refused, or left without an answer for a second).
func (w *Watch) End() (ok, failed int64) {
	ok, refused, slow := w.Stop()
	return ok, refused + slow
}
