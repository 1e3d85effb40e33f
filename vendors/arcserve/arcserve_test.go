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
		{[]string{"pre-snapshot", "--fail-code", "9"}, hooktest.ErrBoom, 9, "freeze arcserve 77 10m0s"},
		{[]string{"post-backup", "--fail-code=3"}, hooktest.ErrBoom, 3, "thaw arcserve 77 10m0s"},
		{[]string{"-fail-code", "255", "post-snapshot"}, hooktest.ErrBoom, 255, "thaw arcserve 77 10m0s"},
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

// A wrong command line is one line on stderr that says what is wrong,
// with the usage, exit 2, and the engine is never reached.
func TestUsageErrorsSayWhatIsWrong(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"pre-snapshot", "--fail-code", "0"}, "--fail-code 0 is out of range: 0 means success, give an exit code from 1 to 255"},
		{[]string{"--fail-code", "256", "pre-snapshot"}, "--fail-code 256 is out of range: give an exit code from 1 to 255"},
		{[]string{"--fail-code=-1", "pre-snapshot"}, "--fail-code -1 is out of range: give an exit code from 1 to 255"},
		{[]string{"pre-snapshot", "--fail-code", "abc"}, `--fail-code "abc" is not a number: give an exit code from 1 to 255`},
		{[]string{"pre-snapshot", "--fail-code"}, "--fail-code needs a value, an exit code from 1 to 255"},
		{[]string{"--fail-code", "3"}, "no operation given (pre-snapshot, post-snapshot or post-backup)"},
		{nil, "no operation given (pre-snapshot, post-snapshot or post-backup)"},
		{[]string{"snapshot"}, `unknown operation "snapshot" (pre-snapshot, post-snapshot or post-backup)`},
		{[]string{"pre-snapshot", "now"}, `unexpected argument "now" after pre-snapshot`},
		{[]string{"pre-snapshot", "--failcode", "3"}, "unknown flag --failcode (the only flag is --fail-code N)"},
	} {
		rec := &hooktest.Recorder{}
		req, stdout, errb := rec.Request(c.args, nil)
		code := Run(context.Background(), req)
		want := "quiesce arcserve: " + c.want + "; " + Usage + "\n"
		if code != ExitBadArgs || errb.String() != want || stdout.Len() != 0 || len(rec.Calls) != 0 {
			t.Errorf("%q: code %d calls %v stdout %q stderr\n%q\nwant\n%q", c.args, code, rec.Calls, stdout, errb, want)
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

// A restore job is no snapshot: at every stage it ends as "nothing to
// do", exit 0, with the activity log's first line saying so, and never
// reaches the engine.
func TestRestoreJobsDoNothing(t *testing.T) {
	for _, jobType := range []string{"restore.bmr", "restore.file", "RESTORE.FILE"} {
		for _, stage := range []string{"pre-snapshot", "post-snapshot", "post-backup"} {
			out := filepath.Join(t.TempDir(), "prepost")
			rec := &hooktest.Recorder{Err: hooktest.ErrBoom}
			req, stdout, errb := rec.Request([]string{"--fail-code", "9", stage}, map[string]string{"D2D_JOBID": "8", "D2D_JOBTYPE": jobType, "D2D_PREPOST_OUTPUT": out})
			code := Run(context.Background(), req)
			b, _ := os.ReadFile(out)
			want := "quiesce arcserve " + stage + ": nothing to do: " + jobType + " is a restore job, not a snapshot; no application stopped or started"
			if code != ExitOK || len(rec.Calls) != 0 || errb.Len() != 0 || strings.TrimSpace(stdout.String()) != want || strings.SplitN(string(b), "\n", 2)[0] != want {
				t.Errorf("%s %s: code %d calls %v stdout %q stderr %q output %q", jobType, stage, code, rec.Calls, stdout, errb, b)
			}
		}
	}
	if (Job{Type: "backup.verify"}).Restore() || (Job{}).Restore() {
		t.Fatal("backup jobs are not restores")
	}
}
