package veeam

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/vendors/hook"
	"github.com/quiesce/quiesce/vendors/hook/hooktest"
)

// Whatever happens, nothing goes to stderr.
func TestNeverWritesStderr(t *testing.T) {
	cases := []struct {
		args   []string
		rec    *hooktest.Recorder
		code   int
		call   string
		stdout string
	}{
		{[]string{"pre-freeze"}, &hooktest.Recorder{Result: freeze.Result{Message: "domino stopped"}}, ExitOK, "freeze veeam  10m0s", "quiesce veeam pre-freeze: freeze OK: domino stopped"},
		{[]string{"post-thaw"}, &hooktest.Recorder{Result: freeze.Result{Message: "started"}}, ExitOK, "thaw veeam  10m0s", "quiesce veeam post-thaw: thaw OK: started"},
		{[]string{"pre-freeze"}, &hooktest.Recorder{Err: hooktest.ErrBoom}, ExitFailed, "freeze veeam  10m0s", "freeze FAILED: boom"},
		{[]string{"pre-freeze"}, &hooktest.Recorder{OpenErr: hooktest.ErrBoom}, ExitFailed, "", "freeze FAILED: boom"},
		{nil, &hooktest.Recorder{}, ExitFailed, "", Usage},
		{[]string{"pre-thaw"}, &hooktest.Recorder{}, ExitFailed, "", "unknown script"},
	}
	for _, c := range cases {
		req, out, errb := c.rec.Request(c.args, nil)
		code := Run(context.Background(), req)
		calls := c.rec.Calls
		if code != c.code || errb.Len() != 0 || !strings.Contains(out.String(), c.stdout) ||
			(c.call != "" && !slices.Equal(calls, []string{c.call})) || (c.call == "" && len(calls) != 0) {
			t.Errorf("%v: code %d calls %v stdout %q stderr %q", c.args, code, calls, out, errb)
		}
	}
}

// A crash inside the engine is reported on stdout, not as a panic on stderr.
func TestPanicGoesToStdout(t *testing.T) {
	rec := &hooktest.Recorder{}
	req, out, errb := rec.Request([]string{"pre-freeze"}, nil)
	req.Open = func(string) (hook.Opened, error) { panic("nil map") }
	if code := Run(context.Background(), req); code != ExitFailed || errb.Len() != 0 || !strings.Contains(out.String(), "internal error: nil map") {
		t.Fatalf("code %d out %q err %q", code, out, errb)
	}
}

func TestScriptsCallTheBinary(t *testing.T) {
	for name, body := range Scripts("/opt/quiesce/quiesce") {
		s := string(body)
		if !strings.Contains(s, "/opt/quiesce/quiesce") || strings.Contains(s, hook.Placeholder) || !strings.Contains(s, hook.Marker) {
			t.Errorf("%s:\n%s", name, s)
		}
		if strings.HasSuffix(name, ".sh") && !strings.Contains(s, "exec 2>&1") {
			t.Errorf("%s does not send stderr to stdout", name)
		}
	}
}
