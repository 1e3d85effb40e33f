package proc

import (
	"context"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestMain doubles as the process the tests discover: with PROC_TEST_SLEEP
// set, the test binary (copied under a name of the test's choosing) sleeps
// that many seconds and exits. No sleep(1) needed, on any platform.
func TestMain(m *testing.M) {
	if s := os.Getenv("PROC_TEST_SLEEP"); s != "" {
		n, _ := strconv.Atoi(s)
		time.Sleep(time.Duration(n) * time.Second)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// exeSuffix is what executables are named with here.
var exeSuffix = map[bool]string{true: ".exe"}[runtime.GOOS == "windows"]

// me is the account of this process, as a Matcher names it.
func me(t *testing.T) Matcher {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	var m Matcher
	m.SetOwner(os.Geteuid(), u.Username)
	return m
}

// spawn runs a copy of the test binary from dir/notes/NAME, so it has a
// path of its own to be discovered by, and returns it with its scanned
// identity and a matcher of its owner and directory.
func spawn(t *testing.T, name string) (*exec.Cmd, Proc, Matcher) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "notes")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, name+exeSuffix)
	copyExe(t, self, exe)
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "PROC_TEST_SLEEP=60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	m := me(t)
	m.Prefixes = []string{dir}
	procs, err := NewSystem().Scan(m)
	if err != nil || len(procs) != 1 {
		t.Fatalf("scan: %v %v", procs, err)
	}
	return cmd, procs[0], m
}

func copyExe(t *testing.T, src, dst string) {
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	out.Close()
}

func TestScanFindsByPathAndOwner(t *testing.T) {
	cmd, p, m := spawn(t, "update")
	if p.PID != int32(cmd.Process.Pid) || p.Name != "update"+exeSuffix || p.Start == 0 {
		t.Fatalf("scanned %+v", p)
	}
	other := m
	if runtime.GOOS == "windows" {
		other.Account = `NT AUTHORITY\LOCAL SERVICE`
	} else {
		other.UID = p.UID + 1
	}
	if ps, _ := NewSystem().Scan(other); len(ps) != 0 {
		t.Fatalf("a process of another owner matched: %v", ps)
	}
	any := Matcher{UID: -1, Prefixes: m.Prefixes}
	if ps, _ := NewSystem().Scan(any); len(ps) != 1 || ps[0].PID != p.PID || ps[0].Start != p.Start {
		t.Fatalf("no owner given must match any owner: %v", ps)
	}
	elsewhere := m
	elsewhere.Prefixes = []string{filepath.Join(filepath.Dir(m.Prefixes[0]), "data")}
	if ps, _ := NewSystem().Scan(elsewhere); len(ps) != 0 {
		t.Fatalf("a process outside the program directory matched: %v", ps)
	}
}

func TestMatchPathBoundary(t *testing.T) {
	m := Matcher{UID: -1, Prefixes: []string{"/opt/hcl/domino/notes"}}
	for path, want := range map[string]bool{
		"/opt/hcl/domino/notes/latest/linux/server": true,
		"/opt/hcl/domino/notes":                     true,
		"/opt/hcl/domino/notes2/server":             false,
		"/opt/hcl/domino/bin/server":                false,
		"/opt/hcl/domino/notes/../bin/server":       false,
	} {
		if got := m.MatchPath(path); got != want {
			t.Errorf("%s: got %v", path, got)
		}
	}
}

func TestWaitReturnsWhenProcessExits(t *testing.T) {
	cmd, p, _ := spawn(t, "router")
	go func() { time.Sleep(50 * time.Millisecond); _ = cmd.Process.Kill() }()
	left := Wait(context.Background(), []Proc{p}, time.Now().Add(time.Minute))
	if len(left) != 0 {
		t.Fatalf("left %v", left)
	}
}

func TestWaitTimesOutWithSurvivors(t *testing.T) {
	_, p, _ := spawn(t, "amgr")
	left := Wait(context.Background(), []Proc{p}, time.Now().Add(100*time.Millisecond))
	if len(left) != 1 || left[0] != p {
		t.Fatalf("left %v", left)
	}
}

func TestWaitStopsOnCancel(t *testing.T) {
	_, p, _ := spawn(t, "http")
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	if left := Wait(ctx, []Proc{p}, time.Now().Add(time.Hour)); len(left) != 1 {
		t.Fatalf("left %v", left)
	}
}

// A child that exited but was not reaped (a zombie on Unix; on Windows,
// an exited process whose handle is still open) is gone for us.
func TestExitedButUnreapedCountsAsExited(t *testing.T) {
	_, p, _ := spawn(t, "sched")
	if err := Signal(p, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if left := Wait(context.Background(), []Proc{p}, time.Now().Add(time.Minute)); len(left) != 0 {
		t.Fatalf("an exited process still waited for: %v", left)
	}
	if Alive(p) {
		t.Fatal("an exited process reported alive")
	}
}

// A PID whose start time differs is another process: never signalled,
// never waited for.
func TestReusedPIDIsNotOurs(t *testing.T) {
	cmd, p, _ := spawn(t, "adminp")
	stale := p
	stale.Start -= 5000
	if Alive(stale) {
		t.Fatal("a different start time must not count as alive")
	}
	if err := Signal(stale, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if left := Wait(context.Background(), []Proc{stale}, time.Now().Add(time.Minute)); len(left) != 0 {
		t.Fatalf("waited for a stale identity: %v", left)
	}
	if !Alive(p) {
		t.Fatal("the real process was hit through a stale identity")
	}
	if err := Signal(p, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if Alive(p) {
		t.Fatal("signal to the real identity did not arrive")
	}
}

func TestPollingFallback(t *testing.T) {
	cmd, p, _ := spawn(t, "replica")
	go func() { time.Sleep(50 * time.Millisecond); _ = cmd.Process.Kill() }()
	if left := waitPoll(context.Background(), []Proc{p}, time.Now().Add(time.Minute)); len(left) != 0 {
		t.Fatalf("left %v", left)
	}
}

func TestMatchPathsAndNames(t *testing.T) {
	task := Proc{UID: 5, Owner: `SRV1\notes`, Exe: "/opt/app/bin/worker", Name: "worker", Comm: "worker"}
	other := Proc{UID: 5, Exe: "/usr/bin/redis-check-rdb", Name: "redis-check-rdb", Comm: "redis-server"}
	cases := []struct {
		m    Matcher
		p    Proc
		want bool
	}{
		{Matcher{UID: -1, Prefixes: []string{"/opt/app"}}, task, true},
		{Matcher{UID: -1, Prefixes: []string{"/opt/app"}, Names: []string{"server"}}, task, false}, // names narrow paths
		{Matcher{UID: -1, Names: []string{"worker"}}, task, true},                                  // names alone match anywhere
		{Matcher{UID: -1, Names: []string{"redis-server"}}, other, true},                           // the kernel's name counts
		{Matcher{UID: 6, Prefixes: []string{"/opt/app"}}, task, false},                             // another owner
		{Matcher{UID: -1, Account: "NOTES", Prefixes: []string{"/opt/app"}}, task, true},           // a Windows account, any case
		{Matcher{UID: -1, Account: `srv1\notes`, Prefixes: []string{"/opt/app"}}, task, true},      // DOMAIN\user
		{Matcher{UID: -1, Account: `OTHER\notes`, Prefixes: []string{"/opt/app"}}, task, false},    // another domain's notes
		{Matcher{UID: -1, Account: "domino", Prefixes: []string{"/opt/app"}}, task, false},         // another account
	}
	for i, c := range cases {
		if got := c.m.Match(c.p); got != c.want {
			t.Errorf("case %d: got %v", i, got)
		}
	}
}
