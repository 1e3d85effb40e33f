// Package stopstart is the freeze method that stops an application for
// the snapshot and starts it again afterwards, proving it serves: for
// every application, and for Domino without an online backup mode.
package stopstart

import (
	"context"
	"errors"
	"time"

	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/manifest"
)

// ErrAlreadyRunning: a start found the application running already.
var ErrAlreadyRunning = errors.New("application already running")

// ErrStartBlocked: an administrator has blocked starts (Domino's
// domino_disabled file); no thaw or watchdog overrides that.
var ErrStartBlocked = errors.New("start blocked by the administrator")

// Target is an application that can be stopped and started.
type Target interface {
	// Running reports whether any process of the application exists. A
	// manager that says it runs while no process is found is an error,
	// never "not running".
	Running() (bool, error)
	// Stop stops it by its steps (freeze.Escalate), the graceful one
	// given at most graceful.
	Stop(ctx context.Context, graceful time.Duration) (StopReport, error)
	// Start starts it and waits until it serves; an application that runs
	// already gives an error wrapping ErrAlreadyRunning.
	Start(ctx context.Context) (StartReport, error)
	// Timeouts are its stop's steps and its start limit: what the plan
	// is made from.
	Timeouts() freeze.Timeouts
}

// DataNamer is a Target that has its own word for the data a forced stop
// may leave open in the snapshot ("databases" for Domino); "files" for a
// target that is not one.
type DataNamer interface {
	DataNoun() string
}

// Waiter is a Target that can wait until an application it finds running
// (a start an interrupted run launched) serves.
type Waiter interface {
	WaitReady(ctx context.Context) error
}

// Crasher is a Target that can tell that the application crashed: it is
// not running, but what it leaves only while it runs is there (Domino's
// ~notes.lck and pid.nbf), so its data was not closed cleanly. A freeze
// of it would give a crash-consistent snapshot.
type Crasher interface {
	// Crashed names what shows the crash; nil when nothing does.
	Crashed() []string
}

// Located is a Target whose data has a location a snapshot manifest
// describes (core/manifest): before the freeze returns, the method writes
// the manifest there; the thaw removes it.
type Located interface {
	Location() manifest.Location
}

// StopReport is what the method needs to know of a stop.
type StopReport struct {
	Outcome string        // how it ended, for messages
	Forced  bool          // it had to be killed: data may not be closed
	Killed  []string      // processes that were killed
	Took    time.Duration // wall time of the stop
	Ran     []freeze.Ran  // the steps it took
}

// StartReport is what the method needs to know of a start.
type StartReport struct {
	Ready time.Duration // from launch to proven readiness
}

// dataNoun is t's word for its data, for messages.
func dataNoun(t Target) string {
	if d, ok := t.(DataNamer); ok {
		return d.DataNoun()
	}
	return "files"
}
