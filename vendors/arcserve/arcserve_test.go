package arcserve

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/vendors/hook/hooktest"
)

func TestOperationsAndFailCode(t *testing.T) {
	cases := []struct {
		args []string
		err  error
		code int
		call string
	}{
		{[]string{"pre-snapshot"}, nil, ExitOK, "freeze arcserve 77 10m0s"},
		{[]string{"post-snapshot"}, nil, ExitOK, "thaw arcserve 77 10m0s"},
		{[]string{"post-backup"}, nil, ExitOK, "thaw arcserve 77 10m0s"},
		{[]string{"pre-snapshot"}, hooktest.ErrBoom, DefaultFailCode, "freeze arcserve 77 10m0s"},
		{[]string{"--fail-code", "9", "pre-snapshot"}, hooktest.ErrBoom, 9, "freeze arcserve 77 10m0s"},
		{[]string{"--fail-code", "9", "pre-snapshot"}, nil, ExitOK, "freeze arcserve 77 10m0s"},
		{[]string{"--fail-code", "0", "pre-snapshot"}, nil, ExitBadArgs, ""},
		{[]string{"snapshot"}, nil, ExitBadArgs, ""},
		{nil, nil, ExitBadArgs, ""},
	}
	for _, c := range cases {
		rec := &hooktest.Recorder{Err: c.err, Result: freeze.Result{Message: "done"}}
		req, _, errb := rec.Request(c.args, map[string]string{"D2D_JOBID": "77"})
		code := Run(context.Background(), req)
		if code != c.code || (c.call != "" && !slices.Equal(rec.Calls, []string{c.call})) || (c.call == "" && len(rec.Calls) != 0) {
			t.Errorf("%v: code %d calls %v stderr %q", c.args, code, rec.Calls, errb)
		}
	}
}

func TestPrepostOutputFirstLine(t *testing.T) {
	out := filepath.Join(t.TempDir(), "prepost")
	if err := os.WriteFile(out, []byte("old line\nmore\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := &hooktest.Recorder{Result: freeze.Result{Message: "domino stopped (clean) in 2.0s"}}
	env := map[string]string{"D2D_JOBNAME": "Backup_Domino", "D2D_JOBID": "5", "D2D_JOBTYPE": "backup.full", "D2D_PREPOST_OUTPUT": out}
	req, _, _ := rec.Request([]string{"pre-snapshot"}, env)
	if code := Run(context.Background(), req); code != ExitOK {
		t.Fatalf("code %d", code)
	}
	b, _ := os.ReadFile(out)
	if first := strings.SplitN(string(b), "\n", 2)[0]; first != "quiesce arcserve pre-snapshot: freeze OK: domino stopped (clean) in 2.0s" {
		t.Fatalf("first line %q", first)
	}
	if j := JobFrom(func(k string) string { return env[k] }); j.Name != "Backup_Domino" || j.Type != "backup.full" {
		t.Fatalf("job %+v", j)
	}
}
