package freeze

import (
	"errors"
	"fmt"
	"strings"
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
	Down       time.Duration // how long the application was down when it was started again
	Killed     bool          // the application had to be killed
}

func (e *FreezeError) Error() string {
	switch {
	case e.NotStopped:
		return fmt.Sprintf("%v; the application was not stopped and is still running", e.Cause)
	case e.Restored && e.Down > 0:
		return fmt.Sprintf("%v; the application was started again (down %.1fs)", e.Cause, e.Down.Seconds())
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

// ErrUnchanged marks a freeze error after which the instance is exactly
// as it was: nothing was stopped, no backup mode entered. A session whose
// method order allows it (auto) then tries the next method.
var ErrUnchanged = errors.New("the instance was left as it was")

// ErrNotRunning: the method found nothing running to freeze its way (an
// online mode needs a running server); the next method, the stop, records
// that it was not running.
var ErrNotRunning = errors.New("the application is not running")

// unchanged reports whether err says the instance was left as it was.
func unchanged(err error) bool {
	var fe *FreezeError
	if errors.As(err, &fe) && fe.NotStopped {
		return true
	}
	return errors.Is(err, ErrUnchanged)
}

// LateThawError is a thaw from a caller whose freeze had expired: the
// watchdog ended it (started the application again, ended backup mode)
// before this thaw, so a snapshot taken after that may not be
// consistent. The caller must be told: its snapshot is suspect.
type LateThawError struct {
	Caller    string
	ExpiredAt time.Time
	Ended     string // what ending the freeze did, from the method
	Effect    string // what that means for a snapshot taken after it
}

func (e *LateThawError) Error() string {
	return fmt.Sprintf("late thaw: the freeze by %s expired at %s and %s before this thaw: a snapshot taken after that %s",
		e.Caller, e.ExpiredAt.Format(time.RFC3339), e.Ended, e.Effect)
}
func (e *LateThawError) Unwrap() []error { return []error{ErrThawFailed, ErrNotQuiesced} }

// LateJoinError is a freeze that would join a hold too close to its end
// (a method's hold cannot outlast its window): the caller's snapshot would
// come after it. The freeze in place is left as it was.
type LateJoinError struct {
	Hold    string // what holds, from the method ("Domino Backup 20261206120000 (backup mode)")
	Ends    time.Time
	Left    time.Duration
	Holders []string
}

func (e *LateJoinError) Error() string {
	return fmt.Sprintf("%s for %s ends at %s, %s from now: too little for this caller's snapshot, which would not be restorable; not joined (the freeze in place is unchanged; freeze again once it is over)",
		e.Hold, strings.Join(e.Holders, ", "), e.Ends.Format("15:04:05"), e.Left.Round(time.Millisecond))
}
func (e *LateJoinError) Unwrap() error { return ErrFreezeFailed }

// ErrNotUsable marks a method that cannot freeze the instance as it is set
// up (Domino Backup not set up): with Fallback the next method is used
// without a word; without, the freeze fails with it, the instance as it
// was.
var ErrNotUsable = errors.New("freeze method not usable here")

// NotUsable marks err as ErrNotUsable (and ErrUnchanged).
func NotUsable(err error) error { return &notUsable{err} }

type notUsable struct{ err error }

func (e *notUsable) Error() string   { return e.err.Error() }
func (e *notUsable) Unwrap() []error { return []error{e.err, ErrNotUsable, ErrUnchanged} }
