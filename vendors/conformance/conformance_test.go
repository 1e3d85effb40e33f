//go:build linux

package conformance

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/freeze"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts")

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(simtest.Main(m)) // fails the run when the host's own quiesce files changed
}

// rig is one simulated server with quiesce configured for it, as a guest
// with quiesce installed would be.
type rig struct {
	sim     *simtest.Sim
	bin     string
	env     hookEnv
	logFile string
}

func newRig(t *testing.T, o simtest.Options, forcedStop string) *rig {
	return newRigTimeout(t, o, forcedStop, "1s")
}

func newRigTimeout(t *testing.T, o simtest.Options, forcedStop, shutdownTimeout string) *rig {
	return newRigWith(t, o, forcedStop, "shutdown_timeout = "+shutdownTimeout+"\nkill_wait = 2s\nstart_timeout = 20s\n", "")
}

// newRigWith writes domino (timeout keys of [domino]) and extra (further
// sections) into the configuration.
func newRigWith(t *testing.T, o simtest.Options, forcedStop, domino, extra string) *rig {
	t.Helper()
	sim := simtest.New(t, o)
	dir := t.TempDir()
	// The test's watchdogs go with it: the state directory they guard is
	// removed next, and a watchdog that finds no directory retries.
	t.Cleanup(func() { simtest.KillWatchdogs(filepath.Join(dir, "state")) })
	cfg := filepath.Join(dir, "quiesce.conf")
	body := fmt.Sprintf("[domino]\nuser = %s\nlotus = %s\ndata = %s\n%s\n[freeze]\nstate_dir = %s\nforced_stop = %s\nlock_wait = 30s\n%s",
		sim.User, sim.Lotus, sim.Data, domino, filepath.Join(dir, "state"), forcedStop, extra)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &rig{sim: sim, bin: simtest.Binary(t, "quiesce"), logFile: filepath.Join(dir, "quiesce.log")}
	r.env = hookEnv{"QUIESCE_CONFIG=" + cfg, "QUIESCE_LOG_FILE=" + r.logFile}
	return r
}

// record is the path of the server's freeze record in stateDir.
func (r *rig) record(stateDir string) string {
	key := freeze.Instance{Kind: domino.TargetName, Ident: domino.CanonicalData(r.sim.Data)}.Key()
	return filepath.Join(stateDir, key+".json")
}

// quiesce runs the installed binary as an administrator would.
func (r *rig) quiesce(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(r.bin, args...)
	cmd.Env = append(os.Environ(), r.env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("quiesce %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (r *rig) startServer(t *testing.T) {
	t.Helper()
	r.quiesce(t, "start")
}

func (r *rig) log(t *testing.T) string {
	b, _ := os.ReadFile(r.logFile)
	return string(b)
}

// harnesses builds each caller's harness on a rig, installed the way the
// administrator's guide says.
var harnesses = []struct {
	name string
	make func(t *testing.T, r *rig) Harness
}{
	{"vmware", func(t *testing.T, r *rig) Harness {
		dir := filepath.Join(t.TempDir(), "backupScripts.d")
		if out := r.quiesce(t, "install", "vmware", "--dir", dir, "--binary", r.bin); !strings.HasPrefix(out, "installed: ") {
			t.Fatalf("install: %s", out)
		}
		return &vmwareHarness{dir: dir, env: r.env, budget: 15 * time.Minute}
	}},
	{"veeam", func(t *testing.T, r *rig) Harness {
		dir := t.TempDir()
		r.quiesce(t, "install", "veeam", "--dir", dir, "--binary", r.bin)
		h := &veeamHarness{scripts: map[string][]byte{}, env: r.env}
		for _, n := range []string{"pre-freeze.sh", "post-thaw.sh"} {
			b, err := os.ReadFile(filepath.Join(dir, n))
			if err != nil {
				t.Fatal(err)
			}
			h.scripts[n] = b
		}
		return h
	}},
	{"arcserve", func(t *testing.T, r *rig) Harness {
		t.Cleanup(func() {
			if log := r.log(t); !strings.Contains(log, `"job_name":"Backup_Domino"`) || !strings.Contains(log, `"job_type":"`) {
				t.Errorf("the log does not name the Arcserve job:\n%s", log)
			}
		})
		return &arcserveHarness{bin: r.bin, env: r.env}
	}},
	{"qemu", func(t *testing.T, r *rig) Harness {
		dir := t.TempDir()
		hook := filepath.Join(dir, "fsfreeze-hook")
		r.quiesce(t, "install", "qemu", "--hook", hook, "--dropin-dir", filepath.Join(dir, "fsfreeze-hook.d"), "--binary", r.bin)
		return startQemuGA(t, hook, r.env)
	}},
	// The cloud callers with the longest limits an administrator who
	// freezes by stopping sets: Azure 60 s per script, AWS DLM's maximum
	// of 120 s (their defaults, 30 s and 10 s, are tested in cloud_test.go).
	{"azure", func(t *testing.T, r *rig) Harness { return newAzure(t, r, 60) }},
	{"aws", func(t *testing.T, r *rig) Harness { return newAWS(t, r, 120) }},
}

// transcript collects what a scenario saw, for the golden file.
type transcript struct{ lines []string }

func (tr *transcript) step(s Step) {
	tr.add("%s: caller verdict ok=%v, exit %d", s.Name, s.OK, s.Code)
	for _, l := range strings.Split(strings.TrimSpace(s.Stdout), "\n") {
		if l != "" {
			tr.add("  stdout: %s", l)
		}
	}
	if s.Stderr == "" {
		tr.add("  stderr: (empty)")
	}
	for _, l := range strings.Split(strings.TrimSpace(s.Stderr), "\n") {
		if l != "" {
			tr.add("  stderr: %s", l)
		}
	}
	if s.Note != "" {
		tr.add("  %s", s.Note)
	}
}

func (tr *transcript) add(format string, a ...any) {
	tr.lines = append(tr.lines, fmt.Sprintf(format, a...))
}

var normalizers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\[\d+\]`), "[PID]"},
	{regexp.MustCompile(`\d+(\.\d+)?(ms|µs|s)\b`), "Ns"},
	{regexp.MustCompile(`/tmp/[^ ]*`), "<TMP>"},
	{regexp.MustCompile(`(\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d`), "<TIME>"},
}

func (tr *transcript) golden(t *testing.T, caller, scenario string) {
	got := strings.Join(tr.lines, "\n") + "\n"
	for _, n := range normalizers {
		got = n.re.ReplaceAllString(got, n.with)
	}
	path := filepath.Join("..", "..", "testdata", "golden", "conformance", caller, scenario+".txt")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./vendors/conformance -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s/%s differs from %s:\n--- want\n%s--- got\n%s", caller, scenario, path, want, got)
	}
}

// killedDBs are the databases left open when a hung router holds up update
// and the server (tasks stop in reverse order: http, amgr, router...).
var killedDBs = []string{"catalog.nsf", "log.nsf", "mail.box", "names.nsf"}

type scenario struct {
	name   string
	opts   simtest.Options
	forced string
	run    func(t *testing.T, h Harness, r *rig, tr *transcript)
}

var hang = simtest.Options{ShutdownSeconds: 0.2, Ini: map[string]string{"SimHangTask": "router"}}
var quick = simtest.Options{ShutdownSeconds: 0.2}

var scenarios = []scenario{
	{"freeze-thaw", quick, "fail", func(t *testing.T, h Harness, r *rig, tr *transcript) {
		r.startServer(t)
		freezeSnapshotThaw(t, h, r, tr, true)
	}},
	{"already-stopped", quick, "fail", func(t *testing.T, h Harness, r *rig, tr *transcript) {
		freezeSnapshotThaw(t, h, r, tr, false)
	}},
	{"hang-kill", hang, "continue", func(t *testing.T, h Harness, r *rig, tr *transcript) {
		r.startServer(t)
		f := h.Freeze(t)
		tr.step(f)
		mustOK(t, f)
		rep := r.sim.Verify(r.sim.Snapshot())
		tr.add("snapshot: open databases %v (those of the killed processes, as the freeze warned)", rep.Dirty)
		if !slices.Equal(rep.Dirty, killedDBs) {
			t.Fatalf("open databases %v, want %v", rep.Dirty, killedDBs)
		}
		if !strings.Contains(r.log(t), "had to be killed") {
			t.Fatal("quiesce's log does not warn about the kill")
		}
		th := h.Thaw(t)
		tr.step(th)
		mustOK(t, th)
		serving(t, r, tr, true)
	}},
	{"freeze-fails", hang, "fail", func(t *testing.T, h Harness, r *rig, tr *transcript) {
		r.startServer(t)
		f := h.Freeze(t)
		tr.step(f)
		if f.OK {
			t.Fatal("the caller saw success for a freeze that had to kill the server")
		}
		serving(t, r, tr, true) // restored before the freeze returned
		th := h.Thaw(t)
		tr.step(th)
		mustOK(t, th)
		serving(t, r, tr, true)
	}},
	{"thaw-twice", quick, "fail", func(t *testing.T, h Harness, r *rig, tr *transcript) {
		r.startServer(t)
		mustOK(t, h.Freeze(t))
		snapshot(t, r, tr, true)
		for i := 0; i < 2; i++ {
			th := h.Thaw(t)
			tr.step(th)
			mustOK(t, th)
		}
		serving(t, r, tr, true)
	}},
	{"thaw-without-freeze", quick, "fail", func(t *testing.T, h Harness, r *rig, tr *transcript) {
		r.startServer(t)
		before := r.sim.Procs()
		th := h.Thaw(t)
		tr.step(th)
		mustOK(t, th)
		if after := r.sim.Procs(); !slices.Equal(before, after) {
			t.Fatalf("a thaw without freeze touched the server: %v -> %v", before, after)
		}
		serving(t, r, tr, true)
	}},
}

// freezeSnapshotThaw is the plain cycle: the freeze succeeds, the snapshot
// is consistent, the thaw succeeds, and the server serves again exactly
// when it did before the freeze.
func freezeSnapshotThaw(t *testing.T, h Harness, r *rig, tr *transcript, wasServing bool) {
	t.Helper()
	f := h.Freeze(t)
	tr.step(f)
	mustOK(t, f)
	snapshot(t, r, tr, true)
	th := h.Thaw(t)
	tr.step(th)
	mustOK(t, th)
	serving(t, r, tr, wasServing)
}

func mustOK(t *testing.T, s Step) {
	t.Helper()
	if !s.OK {
		t.Fatalf("%s failed in the caller's eyes: exit %d\nstdout: %s\nstderr: %s\n%s", s.Name, s.Code, s.Stdout, s.Stderr, s.Note)
	}
}

func snapshot(t *testing.T, r *rig, tr *transcript, wantConsistent bool) {
	t.Helper()
	rep := r.sim.Verify(r.sim.Snapshot())
	tr.add("snapshot: consistent=%v (%d databases checked)", rep.Consistent(), rep.Checked)
	if rep.Consistent() != wantConsistent {
		t.Fatalf("snapshot consistency %v, want %v: %+v", rep.Consistent(), wantConsistent, rep)
	}
}

func serving(t *testing.T, r *rig, tr *transcript, want bool) {
	t.Helper()
	got := r.sim.Serving()
	tr.add("server serving: %v", got)
	if got != want {
		t.Fatalf("serving %v, want %v", got, want)
	}
}

func TestConformance(t *testing.T) {
	for _, hs := range harnesses {
		if testing.Short() && hs.name != "vmware" { // the short tier plays one caller through every scenario
			continue
		}
		t.Run(hs.name, func(t *testing.T) {
			for _, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) {
					r := newRig(t, sc.opts, sc.forced)
					h := hs.make(t, r)
					tr := &transcript{}
					sc.run(t, h, r, tr)
					if s, ok := h.(*veeamHarness); ok && s != nil && strings.Contains(strings.Join(tr.lines, "\n"), "stderr: ") &&
						!strings.Contains(strings.Join(tr.lines, "\n"), "stderr: (empty)") {
						t.Fatal("the Veeam script wrote to stderr")
					}
					tr.golden(t, hs.name, sc.name)
				})
			}
		})
	}
}
