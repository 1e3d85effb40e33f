package nutanix

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/vendors/hook/hooktest"
)

func TestOperations(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		call string
	}{
		{[]string{"freeze"}, ExitOK, "freeze nutanix  1m0s"},
		{[]string{"thaw"}, ExitOK, "thaw nutanix  1m0s"},
		{[]string{"pre_freeze"}, ExitBadArgs, ""},
		{[]string{"freeze", "x"}, ExitBadArgs, ""},
		{nil, ExitBadArgs, ""},
	} {
		rec := &hooktest.Recorder{}
		req, _, _ := rec.Request(c.args, nil)
		if code := Run(context.Background(), req); code != c.code || !slices.Equal(rec.Calls, nonEmpty(c.call)) {
			t.Errorf("%v: %d %v", c.args, code, rec.Calls)
		}
	}
	nf := &freeze.FreezeError{Cause: &freeze.NoFitError{Caller: Name, Budget: time.Minute, Needs: 2 * time.Minute}, NotStopped: true}
	for _, err := range []error{hooktest.ErrBoom, nf} {
		rec := &hooktest.Recorder{Err: err}
		req, out, errb := rec.Request([]string{"freeze"}, nil)
		if code := Run(context.Background(), req); code != ExitFailed || out.Len() != 0 || errb.Len() == 0 {
			t.Fatalf("%v: exit %d, stdout %q", err, code, out)
		}
	}
	if !Defaults.Hard || Defaults.Budget != DefaultBudget || Defaults.Thaw != DefaultBudget {
		t.Fatalf("defaults %+v", Defaults)
	}
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func TestInvocation(t *testing.T) {
	for _, c := range []struct {
		argv0 string
		want  string
	}{
		{"/usr/local/sbin/pre_freeze", "[freeze]"},
		{"/usr/local/sbin/post_thaw", "[thaw]"},
		{"/opt/nutanix/scripts/PRE_FREEZE.exe", "[freeze]"},
		{"/usr/local/sbin/quiesce", "[] false"},
	} {
		args, ok := Invocation(c.argv0, nil)
		got := fmt.Sprint(args)
		if !ok {
			got += " false"
		}
		if got != c.want {
			t.Errorf("%s: %s, want %s", c.argv0, got, c.want)
		}
	}
}
