// Package holder keeps a database's backup lock from freeze to thaw. A
// database gives such a lock (BACKUP STAGE, FLUSH TABLES WITH READ LOCK,
// pg_backup_start) to a client session, for as long as that session
// lasts, while the caller's pre-freeze command exits before the snapshot:
// so a holder process, detached like the watchdog, takes the lock and
// keeps its session until the thaw tells it to end the lock, or until
// its own limit. Its session is the hold: a SIGKILL of the holder, or of
// the server, drops it and the server releases the lock by itself.
//
// The holder answers on a control socket in the state directory (which
// only root can reach): the freeze's session asks it whether it still
// holds (a nested caller joins only a hold that does) and the thaw asks
// it to release, and gets with the answer the proof that the lock was
// held throughout: the same holder process, the same database session,
// alive at every heartbeat from the acquisition to the release.
//
// The freeze method built on it (Method) is shared by the database
// kinds; each kind's package gives the Lock (what to run on the server)
// and the Driver (its settings and its words).
package holder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// Lock is a lock a database server gives one client session. A holder
// calls Acquire once, then Alive at every heartbeat, then Release (or
// Close alone, which drops the session and with it the lock).
type Lock interface {
	// Acquire connects and takes the lock before ctx ends. Facts are
	// what the freeze records and reports (a binary log position, a
	// start LSN); the fact Session identifies the database session, and
	// Hold = HoldNone says that nothing needs holding (a CHECKPOINT).
	Acquire(ctx context.Context) (Facts, error)
	// Alive checks, on the same session, that it still holds: it
	// returns the session's identity as the server sees it now.
	Alive(ctx context.Context) (string, error)
	// Release ends the lock on the same session; its facts are
	// reported (pg_backup_stop's label).
	Release(ctx context.Context) (Facts, error)
	// Probe connects and reports what a freeze would do, changing
	// nothing (for check).
	Probe(ctx context.Context) (Facts, error)
	// Close drops the session.
	Close() error
}

// Facts are what a lock reports, by name.
type Facts map[string]string

// Well-known facts.
const (
	FactSession = "session" // the database session's identity (connection id, backend pid)
	FactHold    = "hold"    // HoldNone: nothing is held after Acquire
	FactMode    = "mode"    // how the lock was taken ("backup-stage", "checkpoint", ...)
	FactServer  = "server"  // the server's version
	FactWarning = "warning" // something the freeze's caller should know
)

// HoldNone is the value of FactHold when Acquire made the server
// consistent and nothing needs holding until the thaw.
const HoldNone = "none"

// Factory builds a kind's lock from the connection settings the freeze
// sent (Spec.Conn).
type Factory func(conn json.RawMessage, log *zap.Logger) (Lock, error)

// Op is what a holder is started for.
const (
	OpHold  = "hold"  // take the lock and keep it until told to release
	OpProbe = "probe" // connect, report, change nothing
)

// Spec is what the freeze hands its holder on standard input: never on
// the command line, since it may hold a password.
type Spec struct {
	Kind      string          `json:"kind"`
	Op        string          `json:"op"`
	Instance  string          `json:"instance"`   // its name, for the log
	Conn      json.RawMessage `json:"conn"`       // the kind's connection settings
	AcquireBy time.Time       `json:"acquire_by"` // give up taking the lock then
	EndBy     time.Time       `json:"end_by"`     // end the hold by itself then, thaw or not
	Heartbeat time.Duration   `json:"heartbeat"`  // check the session this often
}

// Error classes a holder reports with a failure, for the freeze to tell
// apart what may fall back to a stop from what must not.
const (
	ClassRefused     = "refused"     // no server listens: not running
	ClassAuth        = "auth"        // the server refused the credentials
	ClassTimeout     = "timeout"     // the lock was not granted in time (a long statement holds it)
	ClassUnsupported = "unsupported" // the server cannot freeze this way here (archive_mode off, too old)
	ClassOther       = "other"
)

// Errors a Lock wraps so that its holder reports the class.
var (
	ErrRefused     = errors.New("no server answers")
	ErrAuth        = errors.New("the server refused the credentials")
	ErrTimeout     = errors.New("the lock was not granted in time")
	ErrUnsupported = errors.New("the online freeze cannot be used here")
)

// classOf is the class of a lock's error.
func classOf(err error) string {
	switch {
	case errors.Is(err, ErrRefused):
		return ClassRefused
	case errors.Is(err, ErrAuth):
		return ClassAuth
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return ClassTimeout
	case errors.Is(err, ErrUnsupported):
		return ClassUnsupported
	}
	return ClassOther
}

// Acquired is the holder's first and only word on its result pipe.
type Acquired struct {
	PID   int       `json:"pid"`
	At    time.Time `json:"at"` // when the lock was granted
	Took  float64   `json:"took_ms"`
	Facts Facts     `json:"facts,omitempty"`
	Err   string    `json:"error,omitempty"`
	Class string    `json:"class,omitempty"`
}

// Report is the holder's answer on its control socket: how the hold
// went, and, after a release, how it ended.
type Report struct {
	PID      int       `json:"pid"`
	Acquired time.Time `json:"acquired"`
	Session  string    `json:"session"`        // the session that took the lock
	Beats    int       `json:"beats"`          // heartbeats that found the same session holding
	LastBeat time.Time `json:"last_beat"`      // the last of them
	MaxGap   float64   `json:"max_gap_ms"`     // longest time between two of them (or the acquisition and the first)
	Lost     string    `json:"lost,omitempty"` // the hold was lost: when and why
	Released time.Time `json:"released,omitempty"`
	Facts    Facts     `json:"facts,omitempty"` // the release's
	Err      string    `json:"error,omitempty"` // the release failed
}

// Held reports whether the report proves an unbroken hold, from the
// acquisition to now (or to the release).
func (r Report) Held() error {
	switch {
	case r.Lost != "":
		return fmt.Errorf("the hold was lost: %s", r.Lost)
	case r.Err != "":
		return errors.New(r.Err)
	}
	return nil
}

// request is what the control socket is asked.
type request struct {
	Op string `json:"op"` // "status" or "release"
}
