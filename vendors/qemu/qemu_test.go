package qemu

import (
	"context"
	"os"
	"path/filepath"
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

func TestInvocationAndTarget(t *testing.T) {
	if !Invocation("/etc/qemu/fsfreeze-hook") || !Invocation("/etc/qemu/fsfreeze-hook.d/50-quiesce") || Invocation("/usr/local/sbin/quiesce") {
		t.Fatal("invocation names")
	}
	dir := t.TempDir()
	hookPath, dropIn := filepath.Join(dir, "fsfreeze-hook"), filepath.Join(dir, "fsfreeze-hook.d")
	if Target(hookPath, dropIn) != hookPath {
		t.Fatal("a free hook path should be used")
	}
	if err := os.WriteFile(hookPath, []byte("#!/bin/sh\n# stock hook\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if Target(hookPath, dropIn) != filepath.Join(dropIn, DropInName) {
		t.Fatal("a foreign hook must be left alone: install into fsfreeze-hook.d")
	}
	if _, err := Install(Target(hookPath, dropIn), "/bin/quiesce"); err != nil {
		t.Fatal(err)
	}
	if msg, err := Uninstall(hookPath, dropIn); err != nil || msg != "removed: "+filepath.Join(dropIn, DropInName) {
		t.Fatalf("uninstall: %q %v", msg, err)
	}
}
