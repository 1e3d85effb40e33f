// Package hooktest helps the adapters' unit tests: an Operator that records
// calls and returns canned outcomes.
package hooktest

import (
	"bytes"
	"context"
	"errors"

	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/vendors/hook"
)

// Recorder is an Operator that records calls and returns canned outcomes,
// for the adapters' unit tests of argument and exit-code mapping (the
// conformance suite drives the real engine).
type Recorder struct {
	Calls   []string // "freeze vmware job", "thaw veeam "
	Result  freeze.Result
	Err     error
	OpenErr error
}

// Freeze implements freeze.Operator.
func (r *Recorder) Freeze(_ context.Context, c freeze.Caller) (freeze.Result, error) {
	r.Calls = append(r.Calls, "freeze "+c.Name+" "+c.Job+" "+c.Budget.String())
	return r.Result, r.Err
}

// Thaw implements freeze.Operator.
func (r *Recorder) Thaw(_ context.Context, c freeze.Caller) (freeze.Result, error) {
	r.Calls = append(r.Calls, "thaw "+c.Name+" "+c.Job+" "+c.Budget.String())
	return r.Result, r.Err
}

// Plan implements freeze.Operator.
func (r *Recorder) Plan(c freeze.Caller) freeze.Plan { return freeze.Plan{Budget: c.Budget} }

// Request builds a request on r with captured streams.
func (r *Recorder) Request(args []string, env map[string]string) (hook.Request, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return hook.Request{
		Args:   args,
		Getenv: func(k string) string { return env[k] },
		Stdout: &out, Stderr: &errb,
		Open: func(string) (hook.Opened, error) {
			if r.OpenErr != nil {
				return hook.Opened{}, r.OpenErr
			}
			return hook.Opened{Op: r}, nil
		},
	}, &out, &errb
}

// ErrBoom is a canned failure.
var ErrBoom = errors.New("boom")
