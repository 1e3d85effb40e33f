//go:build linux

package conformance

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/cmd/simdomino/timeline"
)

// Two Domino partitions on one host (HCL's partitioned servers: each its
// own data directory, notes.ini and configuration file), with one state
// directory, as both would have the default one. Every freeze record,
// lock and watchdog belongs to one instance: two partitions never share a
// freeze, whatever order their callers come in.

// partition is one simulated Domino partition with its own configuration
// file; every partition of a test shares one state directory.
type partition struct {
	name string
	sim  *simtest.Sim
	cfg  string
	bin  string
	log  string
}

// newPartitions installs two partitions sharing state (the default state
// directory, for each of them, in real life); online sets them up for
// Domino Backup with method = online.
func newPartitions(t *testing.T, online bool, freeze string) (a, b *partition, state string) {
	t.Helper()
	dir := t.TempDir()
	state = filepath.Join(dir, "state")
	t.Cleanup(func() { simtest.KillWatchdogs(state) })
	mk := func(name string) *partition {
		sim := simtest.New(t, simtest.Options{ShutdownSeconds: 0.2, StartSeconds: 0.2, Backup: online})
		method := "stop"
		if online {
			method = "online\ndelta_dir = " + sim.DeltaDir
		}
		cfg := filepath.Join(dir, name+".conf")
		body := fmt.Sprintf("[domino]\nuser = %s\nlotus = %s\ndata = %s\nshutdown_timeout = 10s\nkill_wait = 2s\nstart_timeout = 20s\nmethod = %s\n\n[freeze]\nstate_dir = %s\nlock_wait = 30s\n%s",
			sim.User, sim.Lotus, sim.Data, method, state, freeze)
		if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return &partition{name: name, sim: sim, cfg: cfg, bin: simtest.Binary(t, "quiesce"), log: filepath.Join(dir, name+".log")}
	}
	a, b = mk("A"), mk("B")
	a.run(t, "start")
	b.run(t, "start")
	return a, b, state
}

// run runs quiesce with the partition's configuration, as its hook does.
func (p *partition) run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(p.bin, append([]string{"--config", p.cfg, "--log-file", p.log}, args...)...)
	out, _ := cmd.CombinedOutput()
	return cmd.ProcessState.ExitCode(), string(out)
}

// instanceName is how quiesce names the partition in its messages.
func (p *partition) instanceName() string { return "domino " + p.sim.Data }

// servers counts the partition's main server processes.
func (p *partition) servers() int {
	n := 0
	for _, pr := range p.sim.Procs() {
		if pr.Name == "server" {
			n++
		}
	}
	return n
}

// callerOps are the words each caller's command takes for a freeze and a
// thaw, as the caller passes them.
var callerOps = []struct{ name, freeze, thaw string }{
	{"vmware", "freeze", "thaw"},
	{"veeam", "pre-freeze", "post-thaw"},
	{"arcserve", "pre-snapshot", "post-snapshot"},
	{"qemu", "freeze", "thaw"},
}

// Each caller, stop and online, both orders of thaws: each partition's
// freeze does its own work and says so, both snapshots are consistent,
// both partitions serve after, with one server each.
func TestPartitionsNeverShareAFreeze(t *testing.T) {
	for _, online := range []bool{false, true} {
		for _, c := range callerOps {
			for _, bFirst := range []bool{true, false} {
				mode := map[bool]string{false: "stop", true: "online"}[online]
				order := map[bool]string{true: "A B B A", false: "A B A B"}[bFirst]
				if testing.Short() && (c.name != "vmware" || !bFirst) {
					continue // the short tier: one caller, both modes
				}
				t.Run(c.name+"/"+mode+"/"+order, func(t *testing.T) {
					a, b, _ := newPartitions(t, online, "")
					freezeOK := map[bool]string{false: " stopped (clean)", true: "every database in backup mode"}[online]
					for _, p := range []*partition{a, b} {
						code, out := p.run(t, c.name, c.freeze)
						if code != 0 || !strings.Contains(out, "freeze OK") || strings.Contains(out, "already") ||
							(!online && !strings.Contains(out, p.instanceName()+freezeOK)) || (online && !strings.Contains(out, freezeOK)) {
							t.Fatalf("%s's freeze: exit %d %s", p.name, code, out)
						}
					}
					snaps := map[*partition]string{a: a.sim.Snapshot(), b: b.sim.Snapshot()}
					if !online {
						for p, snap := range snaps {
							if rep := p.sim.Verify(snap); !rep.Consistent() {
								t.Fatalf("%s's snapshot: %+v", p.name, rep)
							}
						}
					}
					thaws := []*partition{b, a}
					if !bFirst {
						thaws = []*partition{a, b}
					}
					ids := map[*partition]string{}
					for _, p := range thaws {
						code, out := p.run(t, c.name, c.thaw)
						want := p.instanceName() + " started and serving"
						if online {
							want = "backup mode ended"
						}
						if code != 0 || !strings.Contains(out, "thaw OK") || !strings.Contains(out, want) {
							t.Fatalf("%s's thaw: exit %d %s", p.name, code, out)
						}
						ids[p] = backupIDOf(out)
					}
					for _, p := range []*partition{a, b} {
						if !p.sim.Serving() || p.servers() != 1 {
							t.Fatalf("%s after the thaws: serving %v, %d server processes", p.name, p.sim.Serving(), p.servers())
						}
						if online {
							if code, v := p.sim.VerifyWithDeltas(snaps[p], p.sim.BackupDeltaDir(ids[p])); code != 0 {
								t.Fatalf("%s's online snapshot with its deltas: %s", p.name, v)
							}
						}
					}
				})
			}
		}
	}
}

// backupIDOf is the Domino Backup identity a line names.
func backupIDOf(line string) string {
	i := strings.Index(line, "Domino Backup ")
	if i < 0 {
		return ""
	}
	f := strings.Fields(line[i+len("Domino Backup "):])
	if len(f) == 0 {
		return ""
	}
	return strings.Trim(f[0], "();,")
}

// A freeze of one partition that is never thawed expires by itself and
// brings back that partition only; a quiesce SIGKILLed in the middle of
// one partition's stop is finished by its watchdog, for that partition
// only. The other stays frozen until its own thaw.
func TestPartitionWatchdogRestoresItsOwnOnly(t *testing.T) {
	simtest.Slow(t)
	a, b, _ := newPartitions(t, false, "")
	// A with a short fixed deadline in a configuration of its own
	short := strings.Replace(mustRead(t, a.cfg), "lock_wait = 30s\n", "lock_wait = 30s\ndeadline = 6s\n", 1)
	if err := os.WriteFile(a.cfg, []byte(short), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*partition{a, b} {
		if code, out := p.run(t, "vmware", "freeze"); code != 0 {
			t.Fatalf("%s: %s", p.name, out)
		}
	}
	simtest.Eventually(t, 6*time.Second+10*time.Second, "A's watchdog starts A at A's deadline", a.sim.Serving)
	// B's own deadline is 20 minutes away: it must still be down now
	if len(b.sim.Procs()) != 0 {
		t.Fatal("A's watchdog started B")
	}
	if code, out := b.run(t, "vmware", "thaw"); code != 0 || !strings.Contains(out, b.instanceName()+" started") {
		t.Fatalf("B's thaw: exit %d %s", code, out)
	}
	if code, out := a.run(t, "vmware", "thaw"); code == 0 || !strings.Contains(out, "late thaw") || !strings.Contains(out, a.instanceName()) {
		t.Fatalf("A's late thaw: exit %d %s", code, out)
	}

	// B frozen; A's freeze killed while A stops: A comes back, B stays down.
	if code, out := b.run(t, "qemu", "freeze"); code != 0 {
		t.Fatalf("B: %s", out)
	}
	slow := strings.Replace(mustRead(t, a.cfg), "deadline = 6s\n", "", 1)
	if err := os.WriteFile(a.cfg, []byte(slow), 0o644); err != nil {
		t.Fatal(err)
	}
	a.sim.SetIni("SimShutdownSeconds", "2")
	cmd := exec.Command(a.bin, "--config", a.cfg, "--log-file", a.log, "veeam", "pre-freeze")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	simtest.Eventually(t, 10*time.Second, "A's stop begins", func() bool {
		for _, e := range a.sim.Timeline() {
			if e.Name == timeline.ShutdownRequested && e.Time.After(time.Now().Add(-5*time.Second)) {
				return true
			}
		}
		return false
	})
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	simtest.Eventually(t, 30*time.Second, "A's watchdog finishes A's stop and starts A", a.sim.Serving)
	if len(b.sim.Procs()) != 0 {
		t.Fatal("A's watchdog started B")
	}
	if code, out := b.run(t, "qemu", "thaw"); code != 0 || !b.sim.Serving() {
		t.Fatalf("B's thaw: exit %d %s", code, out)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// One Domino server described by two configuration files (its
// rc_domino_config and a quiesce.conf), as two callers' hooks may use
// them: one freeze, which the second caller joins, and one start, at the
// last thaw.
func TestOneInstanceThroughTwoConfigurations(t *testing.T) {
	simtest.Slow(t)
	sim := simtest.New(t, simtest.Options{ShutdownSeconds: 0.2, StartSeconds: 0.2})
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	t.Cleanup(func() { simtest.KillWatchdogs(state) })
	native := filepath.Join(dir, "quiesce.conf")
	body := fmt.Sprintf("[domino]\nuser = %s\nlotus = %s\n# the same data directory, written another way\ndata = %s/\nshutdown_timeout = 10s\nkill_wait = 2s\nstart_timeout = 20s\n",
		sim.User, sim.Lotus, sim.Data)
	if err := os.WriteFile(native, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := simtest.Binary(t, "quiesce")
	run := func(cfg string, args ...string) (int, string) {
		cmd := exec.Command(bin, append([]string{"--config", cfg, "--state-dir", state, "--log-file", filepath.Join(dir, "q.log")}, args...)...)
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}
	if code, out := run(sim.RcConfig, "start"); code != 0 {
		t.Fatal(out)
	}
	steps := []struct {
		cfg, caller, op, want string
	}{
		{sim.RcConfig, "arcserve", "pre-snapshot", "stopped (clean)"},
		{native, "vmware", "freeze", "vmware joined, nothing changed"},
		{sim.RcConfig, "arcserve", "post-snapshot", "arcserve thawed; still frozen by vmware"},
		{native, "vmware", "thaw", "started and serving"},
	}
	for _, s := range steps {
		code, out := run(s.cfg, s.caller, s.op)
		if code != 0 || !strings.Contains(out, s.want) {
			t.Fatalf("%s %s with %s: exit %d %s", s.caller, s.op, filepath.Base(s.cfg), code, out)
		}
	}
	starts, stops := 0, 0
	for _, e := range sim.Timeline() {
		switch e.Name {
		case timeline.StartRequested:
			starts++
		case timeline.ShutdownRequested:
			stops++
		}
	}
	if starts != 2 || stops != 1 || !sim.Serving() { // the first start is the test's own
		t.Fatalf("the server was started %d times and stopped %d times (want 2 and 1); serving %v", starts, stops, sim.Serving())
	}
}
