package freeze

import (
	"errors"
	"fmt"
	"time"
)

// Sentinels for errors.Is.
var (
	// ErrFreezeFailed: the freeze did not produce a consistent state.
	ErrFreezeFailed = errors.New("freeze failed")
	// ErrThawFailed: the application could not be started again.
	ErrThawFailed = errors.New("thaw failed")
)

// FreezeError: a freeze failed; Restored says whether the application is
// running again, NotStopped that it never went down (it was found still
// running, so nothing had to be started).
type FreezeError struct {
	Cause      error
	Restored   bool
	NotStopped bool
	Pending    bool // the application was still going down: the watchdog starts it once it is
	RestoreErr error
}

func (e *FreezeError) Error() string {
	switch {
	case e.NotStopped:
		return fmt.Sprintf("%v; the application was not stopped and is still running", e.Cause)
	case e.Restored:
		return fmt.Sprintf("%v; the application was started again", e.Cause)
	case e.Pending:
		return fmt.Sprintf("%v; the application is still shutting down: the quiesce watchdog starts it again as soon as it is down", e.Cause)
	case e.RestoreErr != nil:
		return fmt.Sprintf("%v; restarting the application failed too: %v", e.Cause, e.RestoreErr)
	}
	return e.Cause.Error()
}
func (e *FreezeError) Unwrap() []error { return []error{ErrFreezeFailed, e.Cause} }

// ThawError: the start after a freeze failed; the state still owes a start,
// so the next thaw, recover or the watchdog tries again.
type ThawError struct{ Cause error }

func (e *ThawError) Error() string {
	return fmt.Sprintf("thaw failed: %v (the next thaw, 'quiesce recover' or the watchdog will retry the start)", e.Cause)
}
func (e *ThawError) Unwrap() []error { return []error{ErrThawFailed, e.Cause} }

// NoTimeLeftError is a freeze whose stop used up its deadline window: too
// little was left for a snapshot before the watchdog would end the freeze.
type NoTimeLeftError struct {
	Window, Left time.Duration
}

func (e *NoTimeLeftError) Error() string {
	return fmt.Sprintf("the stop used up the freeze's deadline window (%s left of %s): the watchdog would start the application again during the snapshot; freeze refused (give the caller a longer budget or [freeze] deadline)",
		e.Left.Round(time.Millisecond), e.Window.Round(time.Millisecond))
}
