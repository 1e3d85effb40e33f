package gcp

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/vendors/hook/hooktest"
)

func TestOperations(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		call []string
	}{
		{[]string{"pre", "disk-1,disk-2"}, ExitOK, []string{"freeze gcp  1m0s"}},
		{[]string{"post", "disk-1"}, ExitOK, []string{"thaw gcp  1m0s"}},
		{[]string{"pre"}, ExitOK, []string{"freeze gcp  1m0s"}},
		{[]string{"freeze", "d"}, ExitBadArgs, nil},
		{[]string{"pre", "d", "x"}, ExitBadArgs, nil},
		{nil, ExitBadArgs, nil},
	} {
		rec := &hooktest.Recorder{}
		req, _, _ := rec.Request(c.args, nil)
		if code := Run(context.Background(), req); code != c.code || !slices.Equal(rec.Calls, c.call) {
			t.Errorf("%v: %d %v", c.args, code, rec.Calls)
		}
	}
	for _, c := range []struct {
		err  error
		code int
	}{
		{hooktest.ErrBoom, ExitFailed},
		{&freeze.FreezeError{Cause: &freeze.NoFitError{Caller: Name, Budget: time.Minute, Needs: 2 * time.Minute}, NotStopped: true}, ExitTimedOut},
		{&freeze.FreezeError{Cause: &freeze.NoTimeLeftError{Window: time.Minute}, Restored: true}, ExitTimedOut},
	} {
		rec := &hooktest.Recorder{Err: c.err}
		req, out, errb := rec.Request([]string{"pre", "d"}, nil)
		if code := Run(context.Background(), req); code != c.code || out.Len() != 0 || errb.Len() == 0 {
			t.Errorf("%v: exit %d, want %d", c.err, code, c.code)
		}
	}
}

func TestReadAgent(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "instance_configs.cfg")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if a, err := ReadAgent(filepath.Join(dir, "none")); err != nil || a.Exists || a.Enabled || a.Timeout != DefaultTimeout {
		t.Fatalf("missing file: %+v %v", a, err)
	}
	p := write("[Accounts]\nenabled = true\n\n[snapshots]\n# enabled = false\nEnabled = True\ntimeout_in_seconds = 45\n")
	if a, err := ReadAgent(p); err != nil || !a.Enabled || a.Timeout != 45*time.Second {
		t.Fatalf("%+v %v", a, err)
	}
	if l := limits(p); l.Budget != 45*time.Second || l.Thaw != 45*time.Second || !l.Hard {
		t.Fatalf("limits %+v", l)
	}
	p = write("[Snapshots]\ntimeout_in_seconds = soon\n")
	if _, err := ReadAgent(p); err == nil || !strings.Contains(err.Error(), "timeout_in_seconds") {
		t.Fatalf("bad timeout: %v", err)
	}
	if l := limits(p); l.Budget != DefaultTimeout {
		t.Fatalf("a bad file's limits: %+v", l)
	}
}

// The file is read as the agent's go-ini reads it (found with the fuzz
// target's seeds: docs/gcp.md's own example has an inline comment, which
// quiesce refused as "not a number of seconds").
func TestParseAgentAsTheAgentReadsIt(t *testing.T) {
	for _, c := range []struct {
		body    string
		enabled bool
		timeout time.Duration
	}{
		{"[Snapshots]\nenabled = true\ntimeout_in_seconds = 60      # the default\n", true, 60 * time.Second},
		{"[Snapshots]\nenabled = yes ; the admin's word\ntimeout_in_seconds = \"45\"\n", true, 45 * time.Second},
		{"\ufeff[Snapshots] # scripts\nenabled: on\n", true, DefaultTimeout},
		{"[Snapshots]\nenabled = true\n[Core]\n[SNAPSHOTS]\nENABLED = off\n", false, DefaultTimeout}, // one section, given twice: the last value
		{"[ Snapshots ]\nenabled = true\n", false, DefaultTimeout},                                   // another section for go-ini
		{"[Snapshots]\n#enabled = true\nenabled = false # not yet\n", false, DefaultTimeout},
	} {
		a, err := ParseAgent("cfg", []byte(c.body))
		if err != nil || a.Enabled != c.enabled || a.Timeout != c.timeout {
			t.Errorf("%q: %+v %v, want enabled %v timeout %v", c.body, a, err, c.enabled, c.timeout)
		}
		if a, err := ParseAgent("cfg", Enable([]byte(c.body))); err != nil || !a.Enabled {
			t.Errorf("%q: not enabled after Enable (%v):\n%s", c.body, err, Enable([]byte(c.body)))
		}
	}
	if _, err := ParseAgent("cfg", []byte("[Snapshots]\ntimeout_in_seconds = 9223372037\n")); err == nil {
		t.Error("seconds beyond a time.Duration accepted")
	}
}

func TestEnable(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "[Snapshots]\nenabled = true\n"},
		{"[Accounts]\nx = 1", "[Accounts]\nx = 1\n\n[Snapshots]\nenabled = true\n"},
		{"[Snapshots]\nenabled = false\ntimeout_in_seconds = 90\n[Core]\ny = 2\n", "[Snapshots]\nenabled = true\ntimeout_in_seconds = 90\n[Core]\ny = 2\n"},
		{"[Snapshots]\ntimeout_in_seconds = 90\n[Core]\ny = 2\n", "[Snapshots]\ntimeout_in_seconds = 90\nenabled = true\n[Core]\ny = 2\n"},
		{"# comment\n[Snapshots]\ntimeout_in_seconds = 90", "# comment\n[Snapshots]\ntimeout_in_seconds = 90\nenabled = true\n"},
	} {
		got := string(Enable([]byte(c.in)))
		if got != c.want {
			t.Errorf("Enable(%q) = %q, want %q", c.in, got, c.want)
		}
		if a, _ := agentOf(t, got); !a.Enabled {
			t.Errorf("not enabled after Enable: %q", got)
		}
	}
}

func agentOf(t *testing.T, body string) (Agent, error) {
	p := filepath.Join(t.TempDir(), "cfg")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return ReadAgent(p)
}

func TestInvocation(t *testing.T) {
	if args, ok := Invocation("/etc/google/snapshots/pre.sh", []string{"d1"}); !ok || !slices.Equal(args, []string{"pre", "d1"}) {
		t.Fatalf("pre.sh: %v %v", args, ok)
	}
	if args, ok := Invocation("/etc/google/snapshots/post.sh", []string{"d1"}); !ok || !slices.Equal(args, []string{"post", "d1"}) {
		t.Fatalf("post.sh: %v %v", args, ok)
	}
	if _, ok := Invocation("/usr/local/bin/pre.sh", nil); ok {
		t.Fatal("any pre.sh taken for the agent's")
	}
}
