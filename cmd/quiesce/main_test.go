//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

func TestMain(m *testing.M) {
	os.Exit(simtest.Main(m)) // fails the run when the host's own quiesce files changed
}

type result struct {
	code           int
	stdout, stderr string
}

// quiesce runs the CLI in-process with the simulated server's config and a
// log file in the test's temp dir.
func quiesce(t *testing.T, cfg string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	full := append([]string{"quiesce", "--config", cfg, "--log-file", filepath.Join(t.TempDir(), "q.log"), "--state-dir", filepath.Join(t.TempDir(), "state")}, args...)
	code := run(full, stdio{out: &out, err: &errb})
	return result{code, out.String(), errb.String()}
}

// fastConfig writes a native config for sim with test-sized timeouts.
func fastConfig(t *testing.T, sim *simtest.Sim, shutdown string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "quiesce.conf")
	// The test's own log and state: a hook installed with this
	// configuration, or a run without --log-file, never writes the host's.
	body := "log_file = " + filepath.Join(dir, "quiesce.log") + "\n[domino]\nuser = " + sim.User + "\nlotus = " + sim.Lotus + "\ndata = " + sim.Data +
		"\nshutdown_timeout = " + shutdown + "\nkill_wait = 2s\nstart_timeout = 20s\n\n[freeze]\nstate_dir = " + filepath.Join(dir, "state") + "\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestStartStopStatusCodes(t *testing.T) {
	sim := simtest.New(t, simtest.Options{ShutdownSeconds: 0.2, StartSeconds: 0.2})
	cfg := sim.RcConfig
	steps := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"status"}, StatusStopped, "Domino is stopped"},
		{[]string{"stop"}, ExitOK, "Domino is not running"},
		{[]string{"start"}, ExitOK, "Domino started in"},
		{[]string{"start"}, ExitOK, "already running (5 processes)"},
		{[]string{"status"}, StatusRunning, "Domino is running: 5 processes"},
		{[]string{"restart"}, ExitOK, "Domino started in"},
		{[]string{"stop"}, ExitOK, "Domino stopped cleanly"},
		{[]string{"status"}, StatusStopped, "Domino is stopped"},
	}
	for _, s := range steps {
		r := quiesce(t, cfg, s.args...)
		if r.code != s.code || !strings.Contains(r.stdout, s.out) || r.stderr != "" {
			t.Fatalf("%v: code %d stdout %q stderr %q; want %d and %q", s.args, r.code, r.stdout, r.stderr, s.code, s.out)
		}
	}
	if r := sim.Verify(sim.Snapshot()); !r.Consistent() {
		t.Fatalf("data after stop: %+v", r)
	}
}

func TestForcedStopIsNotSilent(t *testing.T) {
	sim := simtest.New(t, simtest.Options{ShutdownSeconds: 0.2, Ini: map[string]string{"SimHangTask": "router"}})
	cfg := fastConfig(t, sim, "500ms")
	if r := quiesce(t, cfg, "start"); r.code != ExitOK {
		t.Fatalf("start: %+v", r)
	}
	r := quiesce(t, cfg, "stop")
	if r.code != ExitForcedStop {
		t.Fatalf("forced stop: code %d, want %d (%+v)", r.code, ExitForcedStop, r)
	}
	if lines := strings.Count(r.stderr, "\n"); lines != 1 || !strings.Contains(r.stderr, "killed by nsd -kill") || !strings.Contains(r.stderr, "router[") {
		t.Fatalf("warning line: %q", r.stderr)
	}
	if len(sim.Procs()) != 0 {
		t.Fatal("processes left after forced stop")
	}
}

func TestStartFailureCodes(t *testing.T) {
	cases := []struct {
		ini  map[string]string
		code int
		msg  string
	}{
		{map[string]string{"SimFailStart": "1"}, ExitNotRunning, "exited during start-up"},
		{map[string]string{"SimNoListen": "1"}, ExitFailure, "not accepting"},
	}
	for _, c := range cases {
		sim := simtest.New(t, simtest.Options{Ini: c.ini})
		cfg := fastConfig(t, sim, "1s")
		body, _ := os.ReadFile(cfg)
		_ = os.WriteFile(cfg, []byte(strings.Replace(string(body), "start_timeout = 20s", "start_timeout = 1s", 1)), 0o644)
		r := quiesce(t, cfg, "start")
		if r.code != c.code || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, c.msg) {
			t.Errorf("%v: %+v", c.ini, r)
		}
	}
}

func TestBadConfiguration(t *testing.T) {
	sim := simtest.New(t, simtest.Options{ShutdownSeconds: 0.2})
	good := fastConfig(t, sim, "10s")
	if r := quiesce(t, good, "start"); r.code != ExitOK {
		t.Fatalf("start: %+v", r)
	}
	running := len(sim.Procs())
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := "[domino]\nuser = " + sim.User + "\nlotus = " + sim.Lotus + "\ndata = " + sim.Data + "\n"
	cases := []struct {
		cfg  string
		code int
		want string
	}{
		{filepath.Join(dir, "missing.conf"), ExitNotConfigured, "missing.conf: file not found"},
		{write("unknown.conf", base+"shutdown_timout = 5\n"), ExitNotConfigured, "unknown.conf:5: domino.shutdown_timout: unknown key"},
		{write("badnum.conf", base+"shutdown_timeout = five\n"), ExitNotConfigured, "badnum.conf:5: domino.shutdown_timeout: \"five\" is not a duration"},
		{write("rc_bad", "DOMINO_USER="+sim.User+"\nDOMINO_SHUTDOWN_TIMEOUT=abc\n"), ExitNotConfigured, "rc_bad:2: DOMINO_SHUTDOWN_TIMEOUT: \"abc\" is not a whole number"},
		{write("nolotus.conf", strings.Replace(base, sim.Lotus, "/nonexistent/domino", 1)), ExitNotInstalled, "nolotus.conf: domino.lotus: program directory /nonexistent/domino does not exist"},
		{write("nouser.conf", strings.Replace(base, "user = "+sim.User, "user = no-such-user-q", 1)), ExitNotConfigured, "nouser.conf: domino.user: user \"no-such-user-q\" does not exist"},
	}
	for _, c := range cases {
		for _, op := range []string{"stop", "start", "restart"} {
			r := quiesce(t, c.cfg, op)
			if r.code != c.code || !strings.HasPrefix(r.stderr, "quiesce: ") || !strings.Contains(r.stderr, c.want) || strings.Count(r.stderr, "\n") != 1 || r.stdout != "" {
				t.Errorf("%s %s: code %d stderr %q stdout %q; want %d and %q", filepath.Base(c.cfg), op, r.code, r.stderr, r.stdout, c.code, c.want)
			}
		}
		if r := quiesce(t, c.cfg, "status"); r.code != StatusUnknown {
			t.Errorf("%s status: code %d, want %d", filepath.Base(c.cfg), r.code, StatusUnknown)
		}
	}
	if n := len(sim.Procs()); n != running || !sim.Serving() {
		t.Fatalf("bad configurations touched the server: %d processes (was %d), serving %v", n, running, sim.Serving())
	}
}

// A misspelt setting in rc_domino_config (the start script ignores it):
// check prints the warning with file and line, every command logs it,
// and nothing fails because of it.
func TestRcDominoTypoIsWarned(t *testing.T) {
	sim := simtest.New(t, simtest.Options{ShutdownSeconds: 0.2})
	body, err := os.ReadFile(sim.RcConfig)
	if err != nil {
		t.Fatal(err)
	}
	rc := filepath.Join(t.TempDir(), "rc_domino_config")
	i := strings.Index(string(body), "DOMINO_SHUTDOWN_TIMEOUT=")
	if i < 0 {
		t.Fatalf("no DOMINO_SHUTDOWN_TIMEOUT in %s", sim.RcConfig)
	}
	typo := strings.Count(string(body[:i]), "\n") + 1
	misspelt := strings.Replace(string(body), "DOMINO_SHUTDOWN_TIMEOUT=", "DOMINO_SHUTDOWN_TIMOUT=", 1)
	if err := os.WriteFile(rc, []byte(misspelt), 0o644); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%s:%d: DOMINO_SHUTDOWN_TIMOUT is no setting quiesce reads: did you mean DOMINO_SHUTDOWN_TIMEOUT?", rc, typo)
	r := quiesce(t, rc, "check", "--all")
	if !strings.Contains(r.stdout, "warning: "+want) {
		t.Errorf("check does not warn of the typo (%q):\n%s%s", want, r.stdout, r.stderr)
	}
	logFile := filepath.Join(t.TempDir(), "q.log")
	var out, errb bytes.Buffer
	code := run([]string{"quiesce", "--config", rc, "--log-file", logFile, "status"}, stdio{out: &out, err: &errb})
	logged, _ := os.ReadFile(logFile)
	if code != StatusStopped || errb.Len() != 0 || !strings.Contains(string(logged), `"warning":"`+want) {
		t.Errorf("status: code %d stderr %q; log:\n%s", code, errb.String(), logged)
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
	}{
		{[]string{"quiesce"}, ExitUsage},
		{[]string{"quiesce", "frobnicate"}, ExitUsage},
		{[]string{"quiesce", "stop", "--bogus"}, ExitUsage},
		{[]string{"rc_domino", "cleanup"}, ExitUnimplemented},
		{[]string{"rc_domino", "frobnicate"}, ExitUsage},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		if code := run(c.args, stdio{out: &out, err: &errb}); code != c.code {
			t.Errorf("%v: code %d want %d (%s)", c.args, code, c.code, errb.String())
		}
	}
}

// TestRcDominoName runs the real binary through a symlink named rc_domino.
func TestRcDominoName(t *testing.T) {
	bin := simtest.Binary(t, "quiesce")
	link := filepath.Join(t.TempDir(), "rc_domino")
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	sim := simtest.New(t, simtest.Options{ShutdownSeconds: 0.2})
	logFile, state := filepath.Join(t.TempDir(), "q.log"), filepath.Join(t.TempDir(), "state")
	runRc := func(args ...string) (int, string) {
		cmd := exec.Command(link, append([]string{"--config", sim.RcConfig, "--log-file", logFile, "--state-dir", state}, args...)...)
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}
	for _, s := range []struct {
		op   string
		code int
	}{{"start", 0}, {"status", 0}, {"stop", 0}, {"status", 3}} {
		if code, out := runRc(s.op); code != s.code {
			t.Fatalf("rc_domino %s: %d %s", s.op, code, out)
		}
	}
	// without --config, rc_domino reads the start script's own file
	cmd := exec.Command(link, "status")
	cmd.Env = append(os.Environ(), "QUIESCE_CONFIG=")
	out, _ := cmd.CombinedOutput()
	if _, err := os.Stat("/etc/sysconfig/rc_domino_config"); os.IsNotExist(err) &&
		!strings.Contains(string(out), "rc_domino: /etc/sysconfig/rc_domino_config: file not found") {
		t.Fatalf("default config: %s", out)
	}
	if b, _ := os.ReadFile(logFile); !strings.Contains(string(b), `"msg":"stop result"`) {
		t.Fatalf("no JSON log of the stop in %s", logFile)
	}
}

// TestPermission runs the real binary as a user who is neither root nor
// the Domino user.
func TestPermission(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run as another user")
	}
	sim := simtest.New(t, simtest.Options{})
	if sim.User == "nobody" {
		t.Skip("the simulated server already runs as nobody")
	}
	bin := simtest.Binary(t, "quiesce")
	cmd := exec.Command("setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups",
		bin, "--config", sim.RcConfig, "--log-file", "/dev/null", "--state-dir", t.TempDir(), "start")
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != ExitPrivilege || !strings.Contains(string(out), "run as root or as "+sim.User) {
		t.Fatalf("code %d: %s", code, out)
	}
	if len(sim.Procs()) != 0 {
		t.Fatal("started anyway")
	}
}
