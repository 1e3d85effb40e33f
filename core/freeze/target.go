// Package freeze brings an application to a consistent state for a
// snapshot and back: Freeze stops it (recording persistently that it did),
// Thaw starts it again only if a freeze stopped it. Freezes nest, thaws are
// idempotent, and a freeze that fails part-way restores the application
// before it returns, because no caller guarantees a thaw.
package freeze

import (
	"context"
	"errors"
	"time"
)

// ErrAlreadyRunning: a start found the application running already.
var ErrAlreadyRunning = errors.New("application already running")

// ErrStartBlocked: an administrator has blocked starts (Domino's
// domino_disabled file); no thaw or watchdog overrides that.
var ErrStartBlocked = errors.New("start blocked by the administrator")

// Target is an application that can be stopped and started.
type Target interface {
	// Name identifies the target in state files and logs.
	Name() string
	// Running reports whether any process of the application exists.
	Running() (bool, error)
	// Stop stops it, waiting at most graceful before escalating.
	Stop(ctx context.Context, graceful time.Duration) (StopReport, error)
	// Start starts it and waits until it serves; an application that runs
	// already gives an error wrapping ErrAlreadyRunning.
	Start(ctx context.Context) (StartReport, error)
	// Timeouts are the configured limits the plan is made from.
	Timeouts() Timeouts
}

// DataNamer is a Target that has its own word for the data a forced stop
// may leave open in the snapshot ("databases" for Domino). Freeze's
// messages say "files" for a target that is not one.
type DataNamer interface {
	// DataNoun is a plural noun: "its DataNoun may be open".
	DataNoun() string
}

// dataNoun is t's word for its data, for messages.
func dataNoun(t Target) string {
	if d, ok := t.(DataNamer); ok {
		return d.DataNoun()
	}
	return "files"
}

// Waiter is a Target that can wait until an application it finds running
// (a start an interrupted run launched) serves.
type Waiter interface {
	WaitReady(ctx context.Context) error
}

// StopReport is what Freeze needs to know of a stop.
type StopReport struct {
	Outcome string        // how it ended, for messages
	Forced  bool          // it had to be killed: data may not be closed
	Killed  []string      // processes that were killed
	Took    time.Duration // wall time of the stop
}

// StartReport is what Thaw needs to know of a start.
type StartReport struct {
	Ready time.Duration // from launch to proven readiness
}

// Timeouts are a target's configured limits.
type Timeouts struct {
	Shutdown    time.Duration // graceful wait before escalation
	PreShutdown time.Duration // delay before the graceful stop begins
	KillWait    time.Duration // wait after each escalation step
	Start       time.Duration // how long a start may take to be ready
}
