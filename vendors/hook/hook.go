// Package hook is what every caller adapter shares: the request an adapter
// receives, the engine it drives, and the hook files it installs. It is
// not an adapter itself; adapters never import each other.
package hook

import (
	"context"
	"fmt"
	"io"
	"time"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/freeze"
)

// Opened is an engine ready for one caller.
type Opened struct {
	Op     freeze.Operator
	Limits Limits // the caller's limits from configuration; unset ones: the adapter's defaults
	Log    *zap.Logger
}

// Limits are a caller's time limits: the adapter's documented defaults,
// or what the configuration sets.
type Limits struct {
	Budget time.Duration // one freeze; with Cycle, freeze, snapshot and thaw together
	freeze.Limits
}

// Or fills l's unset durations from def; whether one timer covers the
// whole cycle, and whether the caller kills its hook at the budget, are
// the caller's own behaviour, taken from def.
func (l Limits) Or(def Limits) Limits {
	or := func(v, d time.Duration) time.Duration {
		if v == 0 {
			return d
		}
		return v
	}
	return Limits{Budget: or(l.Budget, def.Budget), Limits: freeze.Limits{
		Thaw: or(l.Thaw, def.Thaw), Snapshot: or(l.Snapshot, def.Snapshot), Cycle: def.Cycle, Hard: def.Hard}}
}

// Caller is the engine's view of one invocation by the caller name.
func (l Limits) Caller(name, job string, began time.Time) freeze.Caller {
	return freeze.Caller{Name: name, Job: job, Budget: l.Budget, Limits: l.Limits, Began: began}
}

// Request is one invocation of an adapter.
type Request struct {
	Args   []string            // the adapter's own arguments (after "quiesce NAME")
	Getenv func(string) string // the caller's environment
	Stdout io.Writer
	Stderr io.Writer
	// Open loads the configuration and returns the engine; its errors
	// (configuration, permissions) are reported in the caller's format.
	Open func(caller string) (Opened, error)
}

// Op is what the caller asked for.
type Op int

// Operations.
const (
	Freeze Op = iota
	Thaw
)

func (o Op) String() string { return [...]string{"freeze", "thaw"}[o] }

// Do opens the engine and runs op for the caller named name. details are
// key/value pairs the caller gave about its job, written to the log.
func Do(ctx context.Context, req Request, op Op, name, job string, defaults Limits, details ...string) (freeze.Result, error) {
	began := time.Now()
	if shim := req.Getenv("QUIESCE_HOOK"); shim != "" {
		if err := config.CheckSafe(shim); err != nil {
			return freeze.Result{}, fmt.Errorf("refusing to run from an unsafe hook file: %w", err)
		}
	}
	eng, err := req.Open(name)
	if err != nil {
		return freeze.Result{}, err
	}
	c := eng.Limits.Or(defaults).Caller(name, job, began)
	if eng.Log != nil && len(details) > 0 {
		fields := []zap.Field{zap.String("caller", name), zap.String("op", op.String())}
		for i := 0; i+1 < len(details); i += 2 {
			fields = append(fields, zap.String(details[i], details[i+1]))
		}
		eng.Log.Info("caller job", fields...)
	}
	if op == Freeze {
		return eng.Op.Freeze(ctx, c)
	}
	return eng.Op.Thaw(ctx, c)
}

// Skip logs that the caller's invocation needs nothing done (a restore
// job, say) and touches no application. The log needs the configuration;
// when it cannot be read the invocation still does nothing, and only the
// caller's own output says so.
func Skip(req Request, op Op, name, why string, details ...string) {
	eng, err := req.Open(name)
	if err != nil || eng.Log == nil {
		return
	}
	fields := []zap.Field{zap.String("caller", name), zap.String("op", op.String()), zap.String("outcome", "nothing-to-do"), zap.String("why", why)}
	for i := 0; i+1 < len(details); i += 2 {
		fields = append(fields, zap.String(details[i], details[i+1]))
	}
	eng.Log.Info("nothing to do", fields...)
}

// Summary is the one line an adapter shows for an outcome.
func Summary(op Op, res freeze.Result, err error) string {
	if err != nil {
		return op.String() + " FAILED: " + err.Error()
	}
	line := op.String() + " OK: " + res.Message
	for _, w := range res.Warnings {
		line += "; WARNING: " + w
	}
	return line
}

// Report shows the one-line outcome the way most callers read it: the
// line on stdout when the operation succeeded, on stderr when it failed.
// It reports whether it succeeded.
func Report(req Request, line string, err error) bool {
	if err != nil {
		fmt.Fprintln(req.Stderr, line)
		return false
	}
	fmt.Fprintln(req.Stdout, line)
	return true
}

// Codes are a caller's exit codes for success, failure and wrong arguments.
type Codes struct{ OK, Failed, BadArgs int }

// RunWord runs a caller that passes exactly one operation word (words
// maps each to its operation): anything else prints usage on stderr and
// gives codes.BadArgs; the outcome is one line, on stdout when it
// succeeded and on stderr when it failed.
func RunWord(ctx context.Context, req Request, name, usage string, defaults Limits, words map[string]Op, codes Codes) int {
	if len(req.Args) != 1 {
		fmt.Fprintln(req.Stderr, usage)
		return codes.BadArgs
	}
	op, ok := words[req.Args[0]]
	if !ok {
		fmt.Fprintf(req.Stderr, "quiesce %s: unknown operation %q\n%s\n", name, req.Args[0], usage)
		return codes.BadArgs
	}
	res, err := Do(ctx, req, op, name, "", defaults)
	if !Report(req, "quiesce "+name+" "+req.Args[0]+": "+Summary(op, res, err), err) {
		return codes.Failed
	}
	return codes.OK
}
