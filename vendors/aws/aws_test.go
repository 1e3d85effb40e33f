//go:build !windows

package aws

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/vendors/hook"
	"github.com/quiesce/quiesce/vendors/hook/hooktest"
)

// DLM's commands, the limit and the exit codes of AWS's sample documents.
func TestRun(t *testing.T) {
	id := "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
	cases := []struct {
		args []string
		rec  *hooktest.Recorder
		code int
		call string
		out  string
	}{
		{[]string{"pre-script"}, &hooktest.Recorder{Result: freeze.Result{Message: "domino in backup mode"}}, ExitOK, "freeze aws  10s", "quiesce aws pre-script: freeze OK: domino in backup mode"},
		{[]string{"--execution-timeout=60", "--execution-id=" + id, "post-script"}, &hooktest.Recorder{}, ExitOK, "thaw aws " + id + " 1m0s", "post-script: thaw OK"},
		{[]string{"--execution-id=None", "pre-script"}, &hooktest.Recorder{Err: hooktest.ErrBoom}, ExitPreFailed, "freeze aws  10s", "freeze FAILED: boom"},
		{[]string{"post-script"}, &hooktest.Recorder{Err: hooktest.ErrBoom}, ExitPostFailed, "thaw aws  10s", "thaw FAILED: boom"},
		{[]string{"dry-run"}, &hooktest.Recorder{}, ExitOK, "", "nothing done"},
		{[]string{"--execution-timeout=5", "pre-script"}, &hooktest.Recorder{}, ExitBadArgs, "", "10 to 120"},
		{[]string{"--execution-timeout=121", "pre-script"}, &hooktest.Recorder{}, ExitBadArgs, "", "10 to 120"},
		{[]string{"--execution-id=x; rm -rf /", "pre-script"}, &hooktest.Recorder{}, ExitBadArgs, "", "UUID or None"},
		{[]string{"freeze"}, &hooktest.Recorder{}, ExitBadArgs, "", "unknown command"},
		{nil, &hooktest.Recorder{}, ExitBadArgs, "", Usage},
	}
	for _, c := range cases {
		req, out, errb := c.rec.Request(c.args, nil)
		code := Run(context.Background(), req)
		all := out.String() + errb.String()
		if code != c.code || !strings.Contains(all, c.out) || (c.call != "" && !slices.Equal(c.rec.Calls, []string{c.call})) || (c.call == "" && len(c.rec.Calls) != 0) {
			t.Errorf("%v: code %d calls %v output %q", c.args, code, c.rec.Calls, all)
		}
	}
}

// A [budgets] aws longer than the policy's timeout the document passes is
// cut to it.
func TestConfiguredBudgetCappedByTheDocument(t *testing.T) {
	rec := &hooktest.Recorder{}
	req, _, _ := rec.Request([]string{"--execution-timeout=30", "pre-script"}, nil)
	req.Open = func(string) (hook.Opened, error) {
		return hook.Opened{Op: rec, Limits: hook.Limits{Budget: 5 * time.Minute}}, nil
	}
	if code := Run(context.Background(), req); code != ExitOK || !slices.Equal(rec.Calls, []string{"freeze aws  30s"}) {
		t.Fatalf("code %d calls %v", code, rec.Calls)
	}
}

// The document has what DLM requires (the three allowedValues, the
// executionId pattern, one aws:runShellScript step), its step timeout is
// the policy's, and its script runs the command it names for each
// command, as sh runs it after SSM's interpolation.
func TestDocument(t *testing.T) {
	d := NewDocument("/usr/local/sbin/quiesce", hook.Options{Config: "/etc/quiesce/quiesce.conf"}, 30*time.Second)
	back, err := ParseDocument(d.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if back.SchemaVersion != "2.2" || !slices.Equal(back.Parameters["command"].AllowedValues, []string{"pre-script", "post-script", "dry-run"}) ||
		back.Parameters["command"].Default != "dry-run" || back.Parameters["executionId"].Default != "None" {
		t.Fatalf("parameters: %+v", back.Parameters)
	}
	if got, _ := back.Timeout(); got != 30*time.Second {
		t.Fatalf("step timeout %s", got)
	}
	if !strings.Contains(string(d.Marshal()), hook.Marker) {
		t.Fatal("the document lacks the marker")
	}
	if _, err := back.Script("freeze", ""); err == nil {
		t.Fatal("a command outside allowedValues was accepted")
	}
	if _, err := back.Script("pre-script", "'; reboot; '"); err == nil {
		t.Fatal("an executionId outside allowedPattern was accepted")
	}
	// sh runs the interpolated script; a stand-in for quiesce prints its
	// arguments.
	dir := t.TempDir()
	fake := filepath.Join(dir, "quiesce")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	d = NewDocument(fake, hook.Options{Config: "/etc/quiesce/it's.conf"}, 10*time.Second)
	for cmd, want := range map[string]string{
		"pre-script":  "--config=/etc/quiesce/it's.conf aws --execution-timeout=10 --execution-id=3f2504e0-4f89-41d3-9a0c-0305e82c3301 pre-script",
		"post-script": "--config=/etc/quiesce/it's.conf aws --execution-timeout=10 --execution-id=3f2504e0-4f89-41d3-9a0c-0305e82c3301 post-script",
		"dry-run":     "--config=/etc/quiesce/it's.conf aws --execution-timeout=10 pre-script --dry-run",
	} {
		s, err := d.Script(cmd, "3f2504e0-4f89-41d3-9a0c-0305e82c3301")
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("sh", "-c", s).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("%s: %v %q, want %q", cmd, err, out, want)
		}
	}
}

// A step timeout beyond a time.Duration is none, not a negative limit
// (found by FuzzParseDocument).
func TestDocumentTimeoutBounds(t *testing.T) {
	for secs, want := range map[string]time.Duration{"90": 90 * time.Second, "1000000000": 1000000000 * time.Second, "9223372037": 0, "0": 0, "-1": 0} {
		d, err := ParseDocument([]byte(`{"mainSteps": [{"inputs": {"timeoutSeconds": ` + secs + `}}]}`))
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := d.Timeout(); got != want || ok != (want > 0) {
			t.Errorf("timeoutSeconds %s: %v %v, want %v", secs, got, ok, want)
		}
	}
}

// The limits come from the document install aws wrote; anything else
// gives DLM's default.
func TestLimitsFrom(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "doc.json")
	if err := os.WriteFile(path, NewDocument("/q", hook.Options{}, 90*time.Second).Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	if l := LimitsFrom(path); l.Budget != 90*time.Second || l.Thaw != 90*time.Second || !l.Hard {
		t.Fatalf("limits %+v", l)
	}
	if l := LimitsFrom(filepath.Join(dir, "none.json")); l != Defaults {
		t.Fatalf("no document: %+v", l)
	}
	if err := writeDocument(path, []byte("{}")); err != nil { // quiesce's own file may be replaced
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(`{"mainSteps": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeDocument(path, []byte("{}")); err == nil {
		t.Fatal("a document quiesce did not write was overwritten")
	}
}
