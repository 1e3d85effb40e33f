package qemu

import (
	"context"
	"slices"
	"testing"

	"github.com/quiesce/quiesce/vendors/hook/hooktest"
)

func TestOperations(t *testing.T) {
	cases := []struct {
		args []string
		code int
		call string
	}{
		{[]string{"freeze"}, ExitOK, "freeze qemu  10m0s"},
		{[]string{"thaw"}, ExitOK, "thaw qemu  10m0s"},
		{[]string{"freeze-fail"}, ExitBadArgs, ""},
		{nil, ExitBadArgs, ""},
	}
	for _, c := range cases {
		rec := &hooktest.Recorder{}
		req, _, _ := rec.Request(c.args, nil)
		if code := Run(context.Background(), req); code != c.code || (c.call != "" && !slices.Equal(rec.Calls, []string{c.call})) {
			t.Errorf("%v: %d %v", c.args, code, rec.Calls)
		}
	}
	rec := &hooktest.Recorder{Err: hooktest.ErrBoom}
	req, _, _ := rec.Request([]string{"freeze"}, nil)
	if code := Run(context.Background(), req); code != ExitFailed {
		t.Fatalf("failure exit %d", code)
	}
}

func TestInvocation(t *testing.T) {
	if !Invocation("/etc/qemu/fsfreeze-hook") || !Invocation("/etc/qemu-ga/fsfreeze-hook.d/50-quiesce") || Invocation("/usr/local/sbin/quiesce") {
		t.Fatal("invocation names")
	}
}
