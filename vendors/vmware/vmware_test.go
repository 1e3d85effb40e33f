package vmware

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/vendors/hook/hooktest"
)

func TestOperations(t *testing.T) {
	cases := []struct {
		args []string
		call string
		code int
	}{
		{[]string{"freeze"}, "freeze vmware  15m0s", ExitOK},
		{[]string{"thaw"}, "thaw vmware  15m0s", ExitOK},
		{[]string{"freezeFail"}, "thaw vmware  15m0s", ExitOK},
		{[]string{"freeze", "nightly"}, "freeze vmware nightly 15m0s", ExitOK},
		{[]string{"FREEZE"}, "freeze vmware  15m0s", ExitOK},
		{[]string{"freezefail"}, "thaw vmware  15m0s", ExitOK},
		{[]string{"Thaw", "nightly"}, "thaw vmware nightly 15m0s", ExitOK},
		{[]string{"freeze-fail"}, "", ExitBadArgs},
		{[]string{"snapshot"}, "", ExitBadArgs},
		{nil, "", ExitBadArgs},
		{[]string{"freeze", "a", "b"}, "", ExitBadArgs},
	}
	for _, c := range cases {
		rec := &hooktest.Recorder{Result: freeze.Result{Message: "ok"}}
		req, _, errb := rec.Request(c.args, nil)
		code := Run(context.Background(), req)
		if code != c.code || (c.call != "" && !slices.Equal(rec.Calls, []string{c.call})) || (c.call == "" && len(rec.Calls) != 0) {
			t.Errorf("%v: code %d calls %v stderr %q", c.args, code, rec.Calls, errb)
		}
	}
}

func TestFailureIsNonZero(t *testing.T) {
	rec := &hooktest.Recorder{Err: hooktest.ErrBoom}
	req, out, errb := rec.Request([]string{"freeze"}, nil)
	if code := Run(context.Background(), req); code != ExitFailed || out.Len() != 0 || !strings.Contains(errb.String(), "freeze FAILED: boom") {
		t.Fatalf("code %d out %q err %q", code, out, errb)
	}
	rec = &hooktest.Recorder{OpenErr: hooktest.ErrBoom}
	req, _, errb = rec.Request([]string{"thaw"}, nil)
	if code := Run(context.Background(), req); code != ExitFailed || !strings.Contains(errb.String(), "boom") {
		t.Fatalf("open error: code %d err %q", code, errb)
	}
}

func TestInvocationByHookName(t *testing.T) {
	cases := []struct {
		argv0 string
		args  []string
		want  []string
		ok    bool
	}{
		{"/usr/sbin/pre-freeze-script", nil, []string{"freeze"}, true},
		{"/usr/sbin/post-thaw-script", nil, []string{"thaw"}, true},
		{"/usr/sbin/pre-freeze-script", []string{"freeze"}, []string{"freeze"}, true},
		{`C:\Windows\pre-freeze-script.exe`, nil, []string{"freeze"}, true},
		{"/etc/vmware-tools/backupScripts.d/50-quiesce", []string{"freezeFail"}, []string{"freezeFail"}, true},
		{"/usr/local/sbin/quiesce", []string{"vmware", "freeze"}, nil, false},
	}
	for _, c := range cases {
		got, ok := Invocation(strings.ReplaceAll(c.argv0, `\`, "/"), c.args)
		if ok != c.ok || !slices.Equal(got, c.want) {
			t.Errorf("%s %v: got %v %v", c.argv0, c.args, got, ok)
		}
	}
}

func TestWindowsScriptDir(t *testing.T) {
	dir, source := windowsDir(`D:\Tools\VMware\`, nil)
	if dir != `D:\Tools\VMware\backupScripts.d` || !strings.Contains(source, "registry") {
		t.Fatalf("from the registry: %s (%s)", dir, source)
	}
	for _, err := range []error{errors.New("The system cannot find the file specified."), nil} {
		dir, source = windowsDir("", err)
		if dir != FallbackWindowsDir || !strings.Contains(source, "default") {
			t.Fatalf("fallback: %s (%s)", dir, source)
		}
	}
}
