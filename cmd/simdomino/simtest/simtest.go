// Package simtest installs the simulated Domino server for tests: real
// processes under real Domino names, owned by a real unprivileged user when
// the tests run as root.
package simtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/nsf"
	"github.com/quiesce/quiesce/cmd/simdomino/snapshot"
	"github.com/quiesce/quiesce/cmd/simdomino/timeline"
	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/proc"
	"github.com/quiesce/quiesce/core/runas"
)

// exeSuffix is what executables are named with on this platform.
var exeSuffix = map[bool]string{true: ".exe"}[runtime.GOOS == "windows"]

// Module is this repository's module path.
const Module = "github.com/quiesce/quiesce"

var (
	buildMu  sync.Mutex
	buildDir string
	built    = map[string]string{}
)

// PrebuiltEnv names a directory of binaries built beforehand for the
// platform under test (NAME.exe on Windows): a Windows test binary under
// wine has no go command to build them with (see .ci/wine/test.sh).
const PrebuiltEnv = "QUIESCE_TEST_BIN"

// Binary builds cmd/NAME of this module once per test process and returns
// its path, in a directory every user can read; with $QUIESCE_TEST_BIN set
// it returns the binary prebuilt there.
func Binary(t testing.TB, name string) string {
	t.Helper()
	if dir := os.Getenv(PrebuiltEnv); dir != "" {
		p := filepath.Join(dir, name+exeSuffix)
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v", PrebuiltEnv, dir, err)
		}
		return p
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[name]; ok {
		return p
	}
	if buildDir == "" {
		d, err := os.MkdirTemp("", "quiesce-bin-")
		if err != nil {
			t.Fatal(err)
		}
		_ = os.Chmod(d, 0o755)
		buildDir = d
	}
	out := filepath.Join(buildDir, name+exeSuffix)
	cmd := exec.Command("go", "build", "-o", out, Module+"/cmd/"+name)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", name, err, b)
	}
	built[name] = out
	return out
}

// Cleanup removes the built binaries; call it from TestMain after m.Run.
func Cleanup() {
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}

// User is the OS user the simulated server runs as: the current user, or
// as root $QUIESCE_TEST_USER, else "notes" when it exists, else "nobody".
func User(t testing.TB) string {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		return u.Username
	}
	for _, name := range []string{os.Getenv("QUIESCE_TEST_USER"), "notes", "nobody"} {
		if name == "" {
			continue
		}
		if _, err := user.Lookup(name); err == nil {
			return name
		}
	}
	t.Fatal("running as root but no unprivileged user: create 'notes' or set QUIESCE_TEST_USER")
	return ""
}

// Options shape an installation.
type Options struct {
	Tasks           string  // comma-separated; "" for a small default set
	ShutdownSeconds float64 // the server's own clean shutdown time
	StartSeconds    float64 // the server's own time to ready
	Ini             map[string]string
	// Backup configures Domino Backup's snapshot mode to run BackupCommand
	// (default: quiesce built from this module) with deltas in DeltaDir
	// (Sim.DeltaDir; default under the installation root).
	Backup        bool
	BackupCommand string
	// BackupOrder is when the simulated Domino Backup ends backup mode:
	// "start" (when the Snapshot Start Command returns) or "snapshot"
	// (when the Backup Snapshot Command returns); "" for simdomino's
	// default. Orders lists both.
	BackupOrder string
	// RestoreOptions go before Domino's arguments in the configured
	// restore commands (quiesce domino-backup restore-db OPTIONS ...).
	RestoreOptions string
}

// Orders are the orders in which Domino may run the snapshot commands,
// as simdomino install --backup-order takes them: an online test runs
// under each.
var Orders = []string{"start", "snapshot"}

// Sim is one installed simulated server.
type Sim struct {
	t                           testing.TB
	Bin                         string // simdomino binary
	Root, Lotus, Data, RcConfig string // RcConfig: on Windows the quiesce.conf install wrote
	User                        string
	Port                        int
	DeltaDir                    string // BackupTargetDirDb, with Options.Backup
	Service                     string // Windows: the service it is registered as
}

// New installs a simulated server in a fresh directory, and kills whatever
// is left of it when the test ends.
func New(t testing.TB, o Options) *Sim {
	t.Helper()
	bin := Binary(t, "simdomino")
	root, err := os.MkdirTemp("", "quiesce-sim-")
	if err != nil {
		t.Fatal(err)
	}
	if o.Tasks == "" {
		o.Tasks = "update,router,amgr,http"
	}
	s := &Sim{t: t, Bin: bin, Root: root, User: User(t)}
	s.layout()
	t.Cleanup(func() { s.uninstall(); s.kill(); os.RemoveAll(root) })
	s.Port = freePort(t)
	args := []string{"install", "--root", root, "--user", s.User, "--tasks", o.Tasks, "--port", fmt.Sprint(s.Port),
		"--shutdown-seconds", fmt.Sprint(o.ShutdownSeconds), "--start-seconds", fmt.Sprint(o.StartSeconds)}
	if o.Backup {
		if o.BackupCommand == "" {
			o.BackupCommand = Binary(t, "quiesce")
		}
		s.DeltaDir = filepath.Join(root, "local/backup/nsf")
		args = append(args, "--backup", "--quiesce", o.BackupCommand, "--delta-dir", s.DeltaDir)
		if o.BackupOrder != "" {
			args = append(args, "--backup-order", o.BackupOrder)
		}
		if o.RestoreOptions != "" {
			args = append(args, "--restore-options", o.RestoreOptions)
		}
	}
	if s.Service != "" {
		args = append(args, "--service", s.Service)
	}
	if b, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("simdomino install: %v\n%s", err, b)
	}
	for k, v := range o.Ini {
		s.SetIni(k, v)
	}
	return s
}

// Config is the target's configuration as quiesce reads it from the
// installed rc_domino_config, with test-sized timeouts.
func (s *Sim) Config(shutdown time.Duration) config.File {
	s.t.Helper()
	c, err := config.Load(s.RcConfig)
	if err != nil {
		s.t.Fatal(err)
	}
	c.ShutdownTimeout = shutdown
	c.KillWait = 2 * time.Second
	c.StartTimeout = 20 * time.Second
	return c
}

// SetIni sets (or with value "" removes) a notes.ini key.
func (s *Sim) SetIni(key, value string) {
	s.t.Helper()
	path := filepath.Join(s.Data, "notes.ini")
	b, err := os.ReadFile(path)
	if err != nil {
		s.t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if k, _, ok := strings.Cut(l, "="); ok && strings.EqualFold(k, key) {
			continue
		}
		lines = append(lines, l)
	}
	if value != "" {
		lines = append(lines, key+"="+value)
	}
	// Atomically (temporary file, rename): a server starting right now must
	// read the old file or the new one, never a truncated one.
	tmp := path + ".simtest"
	if err := os.WriteFile(tmp, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		s.t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		s.t.Fatal(err)
	}
}

// Matcher selects every process of this installation, whoever owns it.
func (s *Sim) Matcher() proc.Matcher {
	return proc.Matcher{UID: -1, Prefixes: []string{s.procDir()}}
}

// Procs lists the installation's running processes.
func (s *Sim) Procs() []proc.Proc {
	ps, err := proc.NewSystem().Scan(s.Matcher())
	if err != nil {
		s.t.Fatal(err)
	}
	return ps
}

// Serving reports whether the NRPC port accepts connections.
func (s *Sim) Serving() bool {
	// A refused connection answers at once; the timeout only matters on a
	// loaded machine (or under wine), where no answer within a second is
	// slowness, not proof that nothing listens.
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port), 5*time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Snapshot copies the data directory, as a hypervisor snapshot would
// capture it at this instant, and returns the copy's path.
func (s *Sim) Snapshot() string {
	s.t.Helper()
	dir, err := os.MkdirTemp("", "quiesce-snap-")
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { _ = os.RemoveAll(dir) })
	dst := filepath.Join(dir, "snapshot")
	if err := snapshot.Copy(s.Data, dst); err != nil {
		s.t.Fatal(err)
	}
	return dst
}

// Snap is a snapshot and the time it took: the copy holds the data
// directory as it was somewhere between From and To.
type Snap struct {
	Dir      string
	From, To time.Time
}

// SnapshotTail is how long a snapshot takes to complete after its data
// is captured: a hypervisor's snapshot is done, and the caller thaws,
// some time after the instant it holds. The application must stay
// consistent (in backup mode) until then.
const SnapshotTail = 250 * time.Millisecond

// TakeSnapshot copies the data directory as Snapshot does, and notes when:
// the snapshot spans the copy and SnapshotTail after it.
func (s *Sim) TakeSnapshot() Snap {
	s.t.Helper()
	from := time.Now()
	dir := s.Snapshot()
	time.Sleep(SnapshotTail)
	return Snap{Dir: dir, From: from, To: time.Now()}
}

// CheckOnline reports why snap is not a good online snapshot of backup
// id (nil when it is): by the simulator's timeline, the whole snapshot
// (the copy and its tail) must lie inside id's backup mode, and the
// copy restored with id's deltas must be consistent. Call it once the
// backup is complete (after the thaw).
func (s *Sim) CheckOnline(snap Snap, id string) error {
	s.t.Helper()
	var inMode, ending *timeline.Event
	for _, ev := range s.Timeline() {
		ev := ev
		switch {
		case strings.TrimSpace(ev.Detail) != id:
		case ev.Name == "backup-mode-all":
			inMode = &ev
		case ev.Name == "backup-mode-ending" && ending == nil:
			ending = &ev
		}
	}
	switch {
	case inMode == nil:
		return fmt.Errorf("backup %s never had every database in backup mode", id)
	case inMode.Time.After(snap.From):
		return fmt.Errorf("the snapshot began %s before every database was in backup mode of backup %s", inMode.Time.Sub(snap.From), id)
	case ending == nil:
		return fmt.Errorf("backup %s never ended backup mode", id)
	case ending.Time.Before(snap.To):
		return fmt.Errorf("backup mode of backup %s began to end %s before the snapshot was complete: the snapshot lies outside backup mode", id, snap.To.Sub(ending.Time).Round(time.Millisecond))
	}
	if code, out := s.VerifyWithDeltas(snap.Dir, s.BackupDeltaDir(id)); code != 0 {
		return fmt.Errorf("snapshot + deltas of backup %s: %s", id, strings.TrimSpace(out))
	}
	return nil
}

// Verify judges a snapshot with the simulator's own check.
func (s *Sim) Verify(dir string) nsf.Report {
	s.t.Helper()
	r, err := nsf.Verify(dir)
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}

// Timeline returns the simulator's own timeline.
func (s *Sim) Timeline() []timeline.Event {
	s.t.Helper()
	ev, err := timeline.Read(s.Data)
	if err != nil {
		s.t.Fatal(err)
	}
	return ev
}

// kill ends every process of the installation.
func (s *Sim) kill() {
	ps, _ := proc.NewSystem().Scan(s.Matcher())
	for _, p := range ps {
		_ = proc.Signal(p, 9)
	}
	proc.Wait(context.Background(), ps, time.Now().Add(5*time.Second))
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Eventually polls cond until it holds, and fails the test when limit
// passes first.
func Eventually(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Within(limit, cond) {
		t.Fatalf("not within %s: %s", limit, what)
	}
}

// Within polls cond until it holds, and reports whether it did before
// limit passed.
func Within(limit time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// Require skips a test whose precondition does not hold here, loudly, and
// fails it in CI (CI=true), where it must run.
func Require(t testing.TB, ok bool, why string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("REQUIRED IN CI: %s", why)
	}
	t.Skipf("SKIPPED (would fail in CI): %s", why)
}

// VerifyWithDeltas restores a copy taken in backup mode with the deltas
// in deltaDir, as simdomino verify --delta does, and returns its verdict
// (exit code 0: restorable and consistent) and output.
func (s *Sim) VerifyWithDeltas(copyDir, deltaDir string) (int, string) {
	s.t.Helper()
	cmd := exec.Command(s.Bin, "verify", copyDir, "--delta", deltaDir)
	out, _ := cmd.CombinedOutput()
	return cmd.ProcessState.ExitCode(), string(out)
}

// Restore plays Domino's restore task (simdomino restore) as the Domino
// user: database db of backup id restored to the new name to, with
// RestoreFileName passed as names says ("dad" or "plain"). It returns the
// exit code and the task's console lines.
func (s *Sim) Restore(id, db, to, names string) (int, string) {
	s.t.Helper()
	acct, err := runas.Lookup(s.User)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := runas.Command(acct, s.Data, s.Bin, "restore", "--data", s.Data, "--backup", id, "--db", db, "--to", to, "--restore-name", names)
	out, _ := cmd.CombinedOutput()
	return cmd.ProcessState.ExitCode(), string(out)
}

// BackupDeltaDir is where the deltas of backup id are.
func (s *Sim) BackupDeltaDir(id string) string {
	return filepath.Join(s.DeltaDir, "SimServer", "SNAP", id)
}

// Console returns the server's console log.
func (s *Sim) Console() string {
	b, _ := os.ReadFile(filepath.Join(s.Data, "IBM_TECHNICAL_SUPPORT", "console.log"))
	return string(b)
}

// Crash ends the running server as a panic does (the simulator's "sim
// crash" console command): its processes die, no database is closed, and
// ~notes.lck and pid.nbf stay behind; as a Windows service it reports
// stopped with an error. It returns once no process of the server is
// left.
func (s *Sim) Crash() {
	s.t.Helper()
	cmd := exec.Command(s.serverExe(), "-c", "sim crash")
	cmd.Dir = s.Data
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("sim crash: %v: %s", err, out)
	}
	Eventually(s.t, 30*time.Second, "the crashed server's processes are gone", func() bool { return len(s.Procs()) == 0 })
}
