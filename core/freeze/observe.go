package freeze

import (
	"context"
	"time"
)

// Observer learns what the engine did after each operation: monitoring
// (metrics, event logs) hangs here, so that the engine knows nothing of
// where the numbers go. Observe must not block for long: it runs before
// the operation's answer reaches its caller.
type Observer interface {
	Observe(Event)
}

// Ops an Event reports.
const (
	OpFreeze   = "freeze"
	OpThaw     = "thaw"
	OpRecover  = "recover"  // 'quiesce recover', or recovery before an operation
	OpWatchdog = "watchdog" // the watchdog settled an interrupted or expired freeze
)

// OutcomeFailed is an Event's outcome when the operation failed.
const OutcomeFailed = "failed"

// Event is one operation on one instance, as an Observer sees it.
type Event struct {
	Op       string        // OpFreeze, OpThaw, OpRecover, OpWatchdog
	Instance string        // the instance's readable name
	Method   string        // the freeze method that acted; "" when none did
	Caller   string        // the caller's name; for recoveries and the watchdog, Op
	Outcome  string        // the Outcome's name, or OutcomeFailed
	Err      error         // why it failed
	Time     time.Time     // when it ended
	Took     time.Duration // wall time of the operation
	Outage   time.Duration // the application was down this long (set when a thaw or recovery brought it back)
	Window   time.Duration // the freeze held this long, from frozen to the thaw (set by a thaw that ended a freeze)
	Forced   bool          // the stop had to kill
	Fallback bool          // the online freeze failed and the application was stopped instead
	Restart  bool          // the watchdog started the application
}

// Failed reports whether the operation failed.
func (e Event) Failed() bool { return e.Err != nil }

type observerKey struct{}

// WithObserver returns a context whose operations report to o, as
// net/http/httptrace carries its hooks: the engines are built in many
// places, the context reaches every operation. A nil o reports nothing.
func WithObserver(ctx context.Context, o Observer) context.Context {
	return context.WithValue(ctx, observerKey{}, o)
}

// ObserverOf returns the context's Observer, or nil.
func ObserverOf(ctx context.Context) Observer {
	o, _ := ctx.Value(observerKey{}).(Observer)
	return o
}

// Notify reports ev to the context's Observer, if any.
func Notify(ctx context.Context, ev Event) {
	if o := ObserverOf(ctx); o != nil {
		o.Observe(ev)
	}
}

// EventOf describes an operation's result as an Event.
func EventOf(op, instance, caller string, res Result, err error, now time.Time) Event {
	ev := Event{Op: op, Instance: instance, Method: res.Method, Caller: caller, Outcome: res.Outcome.String(), Err: err, Time: now, Took: res.Took,
		Outage: res.Downtime, Window: res.Window, Forced: res.Forced, Fallback: res.Fallback}
	if err != nil {
		ev.Outcome = OutcomeFailed
	}
	return ev
}

// observe reports an operation of this session.
func (s *Session) observe(ctx context.Context, op, caller string, res Result, err error) {
	if ObserverOf(ctx) == nil {
		return
	}
	ev := EventOf(op, s.inst.Name, caller, res, err, s.clock.Now())
	ev.Restart = op == OpWatchdog && err == nil && res.Outcome == Started
	Notify(ctx, ev)
}
