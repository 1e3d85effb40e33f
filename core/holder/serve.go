package holder

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/clock"
)

// DefaultHeartbeat is how often a holder checks its session.
const DefaultHeartbeat = time.Second

// ioLimit bounds one request or answer on the control socket.
const ioLimit = 5 * time.Second

// Serve is the holder process: it takes the lock, reports the result on
// result (then closes it: the holder never writes to its caller again),
// and keeps the lock until a release request on ln, its EndBy, a
// SIGTERM (ctx) or the loss of its session. A result that cannot be
// written (the freeze was killed meanwhile) ends the hold at once: no
// one recorded it. It returns once the lock is given up.
func Serve(ctx context.Context, spec Spec, lock Lock, result io.WriteCloser, ln net.Listener, log *zap.Logger, c clock.Clock) error {
	h := &hold{spec: spec, lock: lock, log: log.With(zap.String("instance", spec.Instance), zap.String("kind", spec.Kind)), clock: c,
		release: make(chan releaseReq, 1), status: make(chan chan Report, 1)}
	if spec.Heartbeat <= 0 {
		h.spec.Heartbeat = DefaultHeartbeat
	}
	defer lock.Close()
	acqCtx, cancel := context.WithDeadline(ctx, spec.AcquireBy)
	defer cancel()
	if ln != nil {
		go h.accept(ln, cancel)
		defer ln.Close()
	}
	if spec.Op == OpProbe {
		facts, err := lock.Probe(acqCtx)
		return h.tell(result, Acquired{PID: os.Getpid(), At: c.Now(), Facts: facts}, err)
	}
	began := c.Now()
	facts, err := lock.Acquire(acqCtx)
	a := Acquired{PID: os.Getpid(), At: c.Now(), Took: ms(c.Now().Sub(began)), Facts: facts}
	if err := h.tell(result, a, err); err != nil {
		return err
	}
	if facts[FactHold] == HoldNone {
		return nil // nothing to keep: the server is consistent as it is
	}
	h.rep = Report{PID: a.PID, Acquired: a.At, Session: facts[FactSession], LastBeat: a.At}
	h.log.Info("holding the database lock", zap.String("session", h.rep.Session), zap.Time("end_by", spec.EndBy))
	return h.keep(ctx)
}

// hold is a holder's state.
type hold struct {
	spec    Spec
	lock    Lock
	log     *zap.Logger
	clock   clock.Clock
	mu      sync.Mutex
	rep     Report
	release chan releaseReq
	status  chan chan Report
}

// releaseReq is a release request: its report goes to reply, and sent
// is closed once the answer is written.
type releaseReq struct {
	reply chan Report
	sent  chan struct{}
}

// tell writes the acquisition's result and closes the pipe; on a failed
// acquisition it returns its error.
func (h *hold) tell(w io.WriteCloser, a Acquired, err error) error {
	if err != nil {
		a.Err, a.Class = err.Error(), classOf(err)
		h.log.Error("could not take the database lock", zap.Error(err), zap.String("class", a.Class))
	}
	b, _ := json.Marshal(a)
	_, werr := w.Write(append(b, '\n'))
	cerr := w.Close()
	if err != nil {
		return err
	}
	if werr != nil || cerr != nil {
		h.log.Error("the freeze is gone before it heard of the lock: releasing it", zap.Error(errors.Join(werr, cerr)))
		_, _ = h.lock.Release(context.Background())
		return errors.Join(werr, cerr)
	}
	return nil
}

// lostLinger is how long a holder whose session was lost stays to tell
// the thaw why (after that the thaw finds it gone: suspect all the same).
const lostLinger = time.Minute

// keep holds until released, its limit, a signal or the loss of the
// session, beating at every heartbeat.
func (h *hold) keep(ctx context.Context) error {
	end := h.clock.After(h.spec.EndBy.Sub(h.clock.Now()))
	var linger <-chan time.Time
	for {
		select {
		case req := <-h.release:
			req.reply <- h.end(ctx, "released by the thaw")
			select { // the answer is written before the holder exits
			case <-req.sent:
			case <-time.After(ioLimit):
			}
			return nil
		case reply := <-h.status:
			reply <- h.snapshot()
		case <-end:
			h.log.Error("no thaw came by the hold's own limit: releasing the database lock", zap.Time("end_by", h.spec.EndBy))
			h.end(ctx, "ended at the holder's own limit")
			return nil
		case <-ctx.Done():
			h.log.Warn("holder stopped by a signal: releasing the database lock")
			h.end(context.WithoutCancel(ctx), "ended by a signal")
			return nil
		case <-linger:
			h.log.Error("no thaw came within a minute of the lost lock: the holder exits")
			return nil
		case <-h.clock.After(h.spec.Heartbeat):
			if h.beat(ctx) && linger == nil {
				linger = h.clock.After(lostLinger)
			}
		}
	}
}

// beat checks that the same session still holds; it reports whether
// the hold is lost.
func (h *hold) beat(ctx context.Context) bool {
	h.mu.Lock()
	lost := h.rep.Lost != ""
	h.mu.Unlock()
	if lost {
		return true
	}
	bctx, cancel := context.WithTimeout(ctx, 2*h.spec.Heartbeat+time.Second)
	session, err := h.lock.Alive(bctx)
	cancel()
	now := h.clock.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err != nil:
		h.rep.Lost = now.Format(time.RFC3339Nano) + ": " + err.Error()
	case session != h.rep.Session:
		h.rep.Lost = now.Format(time.RFC3339Nano) + ": the database session changed (" + h.rep.Session + " -> " + session + ")"
	default:
		h.rep.MaxGap = max(h.rep.MaxGap, ms(now.Sub(h.rep.LastBeat)))
		h.rep.Beats++
		h.rep.LastBeat = now
		return false
	}
	h.log.Error("the database lock is lost", zap.String("lost", h.rep.Lost))
	_ = h.lock.Close()
	return true
}

// end releases the lock, with a last beat first: the release proves the
// hold only if the session still held right before it.
func (h *hold) end(ctx context.Context, why string) Report {
	h.beat(ctx)
	h.mu.Lock()
	lost := h.rep.Lost != ""
	h.mu.Unlock()
	var facts Facts
	var err error
	var took time.Duration
	if !lost {
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		began := h.clock.Now()
		facts, err = h.lock.Release(rctx)
		took = h.clock.Now().Sub(began)
		cancel()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rep.Released, h.rep.Facts = h.clock.Now(), facts
	if err != nil {
		h.rep.Err = "release failed: " + err.Error()
	}
	held := ms(h.rep.Released.Sub(h.rep.Acquired))
	fields := []zap.Field{zap.String("why", why), zap.Float64("held_ms", held), zap.Float64("release_ms", ms(took)), zap.Int("beats", h.rep.Beats),
		zap.Float64("max_gap_ms", h.rep.MaxGap), zap.String("lost", h.rep.Lost), zap.String("error", h.rep.Err)}
	for k, v := range facts { // what the release returned (a backup's label) is in the log even if no thaw hears it
		fields = append(fields, zap.String(k, v))
	}
	h.log.Info("database lock released", fields...)
	return h.rep
}

func (h *hold) snapshot() Report {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rep
}

// accept answers the control socket. A release before the lock is held
// cancels the acquisition (cancel): its session is dropped.
func (h *hold) accept(ln net.Listener, cancel context.CancelFunc) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go h.answer(conn, cancel)
	}
}

func (h *hold) answer(conn net.Conn, cancel context.CancelFunc) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(ioLimit))
	line, err := bufio.NewReader(io.LimitReader(conn, 4096)).ReadBytes('\n')
	var req request
	if err != nil || json.Unmarshal(line, &req) != nil {
		return
	}
	reply, sent := make(chan Report, 1), make(chan struct{})
	defer close(sent)
	switch req.Op {
	case "status":
		h.status <- reply
	case "release":
		cancel() // an acquisition still under way gives up
		_ = conn.SetDeadline(time.Time{})
		h.release <- releaseReq{reply: reply, sent: sent}
	default:
		return
	}
	rep := <-reply
	b, _ := json.Marshal(rep)
	_ = conn.SetDeadline(time.Now().Add(ioLimit))
	_, _ = conn.Write(append(b, '\n'))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
