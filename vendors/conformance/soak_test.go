//go:build linux

package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/proc"
)

// The chaos soak: randomized freeze / snapshot / thaw cycles with faults
// drawn at random. QUIESCE_SOAK_CYCLES sets the number (default 50, which
// CI runs; make soak runs 1,000), QUIESCE_SOAK_SEED replays a run and
// QUIESCE_SOAK_FROM=N replays it from cycle N on (the cycles before are
// drawn, not run, so cycle N gets the same fault, caller and kill delay).
// A violation is reported with the whole quiesce log of the offending
// cycle and of the one before it.

const soakDeadline = 4 * time.Second // [freeze] deadline in the soak's configuration

type fault string

const (
	fNone       fault = "none"
	fHang       fault = "task hangs on shutdown"
	fIgnoreTerm fault = "task ignores SIGTERM (nsd fails)"
	fFailStart  fault = "server fails to start once"
	fSlowStart  fault = "slow start (2 s)"
	fKillFreeze fault = "quiesce SIGKILLed during freeze"
	fKillThaw   fault = "quiesce SIGKILLed during thaw"
	fThawNever  fault = "thaw never comes"
	fOverlap    fault = "two callers overlap"
	fDupThaw    fault = "duplicate thaws"
	fReboot     fault = "simulated reboot"
	fKillWatch  fault = "watchdog SIGKILLed"
	fStateFull  fault = "state file system full"
)

var allFaults = []fault{fNone, fHang, fIgnoreTerm, fFailStart, fSlowStart, fKillFreeze, fKillThaw, fThawNever, fOverlap, fDupThaw, fReboot,
	fKillWatch, fStateFull}

// soak is the state of one soak run.
type soak struct {
	t        *testing.T
	r        *rig
	rnd      *rand.Rand
	logStart int64
	prevLog  int64        // where the previous cycle's log begins
	servers  atomic.Int32 // most main server processes seen at once
	tally    map[fault]*tallyRow
	current  atomic.Value // "cycle N (fault)", for the report of a second server
	second   atomic.Value // what was seen when a second server ran
}

type tallyRow struct{ cycles, freezeOK, freezeFailed, snapshotsOK, recovered, slow int }

// draw is what one cycle does: its fault, its caller and, for the kill
// faults, when the kill comes. Drawn in this order from the seed, so a
// seed replays the same cycles.
type draw struct {
	f      fault
	caller int
	delay  time.Duration
}

func (s *soak) draw() draw {
	d := draw{f: allFaults[s.rnd.Intn(len(allFaults))]}
	d.caller = s.rnd.Intn(len(soakCallers))
	switch d.f {
	case fKillFreeze:
		d.delay = time.Duration(s.rnd.Intn(400)) * time.Millisecond
	case fKillThaw:
		d.delay = time.Duration(s.rnd.Intn(500)) * time.Millisecond
	case fKillWatch, fStateFull:
		d.delay = time.Duration(s.rnd.Intn(2)) // which of two variants
	}
	return d
}

var soakCallers = [][2]string{{"vmware", "freeze"}, {"veeam", "pre-freeze"}, {"arcserve", "pre-snapshot"}, {"qemu", "freeze"}}
var soakThaws = map[string]string{"vmware": "thaw", "veeam": "post-thaw", "arcserve": "post-snapshot", "qemu": "thaw"}

func soakFrom() int {
	n, _ := strconv.Atoi(os.Getenv("QUIESCE_SOAK_FROM"))
	return max(n, 0)
}

func soakCycles() int {
	if n, err := strconv.Atoi(os.Getenv("QUIESCE_SOAK_CYCLES")); err == nil && n > 0 {
		return n
	}
	return 50
}

func TestSoak(t *testing.T) {
	simtest.Slow(t)
	seed := time.Now().UnixNano()
	if s, err := strconv.ParseInt(os.Getenv("QUIESCE_SOAK_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("soak seed %d (QUIESCE_SOAK_SEED=%d replays it)", seed, seed)
	r := newSoakRig(t)
	s := &soak{t: t, r: r, rnd: rand.New(rand.NewSource(seed)), tally: map[fault]*tallyRow{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.countServers(ctx)
	r.startServer(t)
	began := time.Now()
	from := soakFrom()
	if from > 0 {
		t.Logf("replaying from cycle %d", from)
	}
	for i := 0; i < soakCycles(); i++ {
		d := s.draw()
		if i < from {
			continue
		}
		s.cycle(i, d)
	}
	if n := s.servers.Load(); n > 1 {
		s.fail(soakCycles()-1, "", "VIOLATION: %d servers ran on the data directory at once, in %v", n, s.second.Load())
	}
	s.report(time.Since(began))
}

func newSoakRig(t *testing.T) *rig {
	// The graceful wait is about six times the simulated shutdown (0.3 s):
	// with 1 s, a clean stop on a machine with a load of 27 overran it by
	// 23 ms (shutdown request delivered 0.6 s after the stop began), and the
	// freeze rightly failed as forced in a cycle without faults.
	r := newRigTimeout(t, simtest.Options{ShutdownSeconds: 0.3, StartSeconds: 0.2}, "fail", "2s")
	cfg := strings.TrimPrefix(r.env[0], "QUIESCE_CONFIG=")
	b, _ := os.ReadFile(cfg)
	b = []byte(strings.Replace(string(b), "kill_wait = 2s", "kill_wait = 1s", 1) + fmt.Sprintf("deadline = %s\n", soakDeadline))
	// The state directory on a small file system of its own, which the
	// "state file system full" fault fills.
	fsdir := filepath.Join(t.TempDir(), "statefs")
	if err := os.Mkdir(fsdir, 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", fsdir).CombinedOutput()
	simtest.Require(t, err == nil, fmt.Sprintf("a small file system for the soak's state (root, tmpfs): %v %s", err, out))
	t.Cleanup(func() {
		simtest.KillWatchdogs(filepath.Join(fsdir, "state"))
		_ = exec.Command("umount", "-l", fsdir).Run()
	})
	b = []byte(strings.Replace(string(b), "state_dir = ", "state_dir = "+filepath.Join(fsdir, "state")+"\n# was: ", 1))
	if err := os.WriteFile(cfg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return r
}

// countServers watches for a second main server on the data directory.
func (s *soak) countServers(ctx context.Context) {
	m := s.r.sim.Matcher()
	src := proc.NewSystem()
	main := filepath.Join(s.r.sim.Lotus, "notes", "latest", "linux", "server")
	for ctx.Err() == nil {
		ps, _ := src.Scan(m)
		mains := map[int32]bool{}
		for _, p := range ps {
			if p.Exe == main {
				mains[p.PID] = true
			}
		}
		// A main server's child between fork and exec (a task being
		// started) still runs the server binary: it is not a second server.
		// One that is gone by now (its parent unreadable) was such a
		// child that has exec'd a task or exited: not a server either.
		n := int32(0)
		for pid := range mains {
			if ppid := parentOf(pid); ppid != 0 && !mains[ppid] {
				n++
			}
		}
		if n > s.servers.Load() {
			s.servers.Store(n)
			if n > 1 {
				var b strings.Builder
				fmt.Fprintf(&b, "%v:", s.current.Load())
				for _, p := range ps {
					ppid, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.PID))
					fmt.Fprintf(&b, "\n  %d started %s %s stat=%.60s", p.PID, p.StartTime().Format("15:04:05.000"), p.Exe, ppid)
				}
				tl, _ := os.ReadFile(filepath.Join(s.r.sim.Data, "IBM_TECHNICAL_SUPPORT", "simdomino-timeline.log"))
				lines := strings.Split(strings.TrimSpace(string(tl)), "\n")
				fmt.Fprintf(&b, "\ntimeline tail:\n%s", strings.Join(lines[max(0, len(lines)-15):], "\n"))
				s.second.Store(b.String())
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// q runs quiesce as a caller would and returns its exit code.
func (s *soak) q(args ...string) int {
	cmd := exec.Command(s.r.bin, args...)
	cmd.Env = append(os.Environ(), s.r.env...)
	_ = cmd.Run()
	return cmd.ProcessState.ExitCode()
}

// qKilled starts quiesce and SIGKILLs it after d.
func (s *soak) qKilled(d time.Duration, args ...string) {
	cmd := exec.Command(s.r.bin, args...)
	cmd.Env = append(os.Environ(), s.r.env...)
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	time.Sleep(d)
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
}

func (s *soak) setFaults(kv map[string]string) {
	for _, k := range []string{"SimHangTask", "SimIgnoreTerm", "SimNsdFail", "SimFailStart", "SimStartSeconds", "SimLaunchDelay"} {
		s.r.sim.SetIni(k, kv[k])
	}
	if kv["SimStartSeconds"] == "" {
		s.r.sim.SetIni("SimStartSeconds", "0.2")
	}
}

// snapshot judges a copy taken after a freeze that reported success.
func (s *soak) snapshot(i int, f fault, row *tallyRow) {
	rep := s.r.sim.Verify(s.r.sim.Snapshot())
	if !rep.Consistent() {
		s.fail(i, f, "VIOLATION cycle %d (%s): freeze reported success but the snapshot is inconsistent: %+v", i, f, rep)
	}
	row.snapshotsOK++
}

// servingBy fails unless the server serves again by the limit.
func (s *soak) servingBy(i int, f fault, limit time.Duration) {
	for deadline := time.Now().Add(limit); !s.r.sim.Serving() || !s.mainServerUp(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			var exes []string
			for _, p := range s.r.sim.Procs() {
				exes = append(exes, fmt.Sprintf("%d %s", p.PID, p.Exe))
			}
			s.fail(i, f, "VIOLATION cycle %d (%s): not serving %s later; processes %v", i, f, limit, exes)
		}
	}
}

// mainServerUp makes sure the port belongs to a live server, not one that
// is still shutting down with its port open.
func (s *soak) mainServerUp() bool {
	b, _ := os.ReadFile(filepath.Join(s.r.sim.Data, "IBM_TECHNICAL_SUPPORT", "simdomino-timeline.log"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	last := lines[len(lines)-1]
	return strings.Contains(last, " ready") || strings.Contains(last, " nsd-kill")
}

func (s *soak) newLog() string { return s.logSince(s.logStart) }

func (s *soak) logSince(off int64) string {
	b, _ := os.ReadFile(s.r.logFile)
	if int64(len(b)) < off {
		return string(b)
	}
	return string(b[off:])
}

// fail stops the soak with what an engineer needs to find the cause: the
// whole quiesce log of this cycle and the one before (which may have left
// the state this cycle tripped on), the state record and the simulated
// server's timeline since the previous cycle began.
func (s *soak) fail(i int, f fault, format string, args ...any) {
	s.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, format, args...)
	b.WriteString(s.evidence(i, f))
	s.t.Fatal(b.String())
}

func (s *soak) evidence(i int, f fault) string {
	var b strings.Builder
	b.WriteString("\n\nstate records now:")
	if dir := s.stateDir(); dir != "" {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, p := range files {
			rec, _ := os.ReadFile(p)
			fmt.Fprintf(&b, "\n%s:\n%s", filepath.Base(p), rec)
		}
		if len(files) == 0 {
			b.WriteString(" none")
		}
	}
	whole := s.logSince(s.prevLog)
	cut := int(s.logStart - s.prevLog)
	if cut < 0 || cut > len(whole) {
		cut = 0
	}
	var since time.Time
	if line, _, ok := strings.Cut(whole, "\n"); ok {
		var entry struct {
			TS time.Time `json:"ts"`
		}
		_ = json.Unmarshal([]byte(line), &entry)
		since = entry.TS
	}
	tl, _ := os.ReadFile(filepath.Join(s.r.sim.Data, "IBM_TECHNICAL_SUPPORT", "simdomino-timeline.log"))
	var tail []string
	for _, l := range strings.Split(strings.TrimSpace(string(tl)), "\n") {
		ts, _, _ := strings.Cut(l, " ")
		if at, err := time.Parse(time.RFC3339Nano, ts); err != nil || !at.Before(since) {
			tail = append(tail, l)
		}
	}
	fmt.Fprintf(&b, "\n\nsimulated server's timeline since cycle %d began:\n%s", i-1, strings.Join(tail, "\n"))
	fmt.Fprintf(&b, "\n\nquiesce log of cycle %d (the one before):\n%s", i-1, whole[:cut])
	fmt.Fprintf(&b, "\nquiesce log of cycle %d (%s):\n%s", i, f, whole[cut:])
	return b.String()
}

func (s *soak) cycle(i int, d draw) {
	f := d.f
	row := s.tally[f]
	if row == nil {
		row = &tallyRow{}
		s.tally[f] = row
	}
	row.cycles++
	s.current.Store(fmt.Sprintf("cycle %d (%s)", i, f))
	if n := s.servers.Load(); n > 1 {
		s.fail(i-1, "", "VIOLATION: %d servers ran on the data directory at once, in %v", n, s.second.Load())
	}
	s.prevLog = s.logStart
	if st, err := os.Stat(s.r.logFile); err == nil {
		s.logStart = st.Size()
	}
	s.servingBy(i, f, 10*time.Second) // each cycle starts from a serving server
	c := soakCallers[d.caller]
	freeze := func() int { return s.q(c[0], c[1]) }
	thaw := func() int { return s.q(c[0], soakThaws[c[0]]) }
	switch f {
	case fHang, fIgnoreTerm:
		faults := map[string]string{"SimHangTask": "router"}
		if f == fIgnoreTerm {
			faults["SimIgnoreTerm"], faults["SimNsdFail"] = "router", "1"
		}
		s.setFaults(faults)
		if freeze() == 0 {
			s.fail(i, f, "VIOLATION cycle %d (%s): freeze reported success after killing the server", i, f)
		}
		row.freezeFailed++
		s.setFaults(nil)
		s.servingBy(i, f, 5*time.Second)
		s.expectLog(i, f, "could only be stopped by force")
		if f == fIgnoreTerm {
			s.expectLog(i, f, "killed by signal")
		}
		if thaw() != 0 {
			s.fail(i, f, "cycle %d (%s): thaw after a failed freeze failed", i, f)
		}
	case fFailStart:
		if !s.mustFreeze(i, f, freeze, row) {
			break
		}
		s.setFaults(map[string]string{"SimFailStart": "1"})
		if thaw() == 0 {
			s.fail(i, f, "cycle %d (%s): thaw reported success for a server that failed to start", i, f)
		}
		s.setFaults(nil) // it fails once; the watchdog retries
		s.servingBy(i, f, soakDeadline+5*time.Second)
		s.expectLog(i, f, "exited during start-up")
		row.recovered++
	case fSlowStart:
		s.setFaults(map[string]string{"SimStartSeconds": "2"})
		if !s.mustFreeze(i, f, freeze, row) {
			s.setFaults(nil)
			break
		}
		if thaw() != 0 {
			s.fail(i, f, "cycle %d (%s): thaw failed", i, f)
		}
		s.setFaults(nil)
	case fKillFreeze:
		s.qKilled(d.delay, c[0], c[1])
		s.servingBy(i, f, soakDeadline+5*time.Second)
		row.recovered++
	case fKillThaw:
		if !s.mustFreeze(i, f, freeze, row) {
			break
		}
		s.setFaults(map[string]string{"SimLaunchDelay": "0.3"}) // widen the launch window the kill may hit
		s.qKilled(d.delay, c[0], soakThaws[c[0]])
		s.setFaults(nil)
		s.servingBy(i, f, soakDeadline+5*time.Second)
		row.recovered++
	case fThawNever:
		if !s.mustFreeze(i, f, freeze, row) {
			break
		}
		s.servingBy(i, f, soakDeadline+5*time.Second)
		s.expectLog(i, f, "freeze expired: no thaw came before the deadline")
		// The watchdog started the server before this thaw: a snapshot
		// taken after that may be inconsistent, and the thaw must say so.
		if thaw() == 0 {
			s.fail(i, f, "VIOLATION cycle %d (%s): a late thaw reported success after the watchdog had started the server", i, f)
		}
		s.expectLog(i, f, "late thaw: the freeze by")
		if thaw() != 0 {
			s.fail(i, f, "cycle %d (%s): a thaw after the late thaw failed (nothing is frozen any more)", i, f)
		}
		row.recovered++
	case fOverlap:
		if s.q("veeam", "pre-freeze") != 0 {
			if s.slowStop(i, f, row) {
				break
			}
			s.fail(i, f, "cycle %d (%s): veeam freeze failed", i, f)
		}
		if !s.mustFreezeArgs(i, f, row, "vmware", "freeze") {
			break
		}
		if s.q("vmware", "thaw") != 0 || s.r.sim.Serving() {
			if s.expiredMeanwhile(i, f, row, "veeam") {
				break
			}
			s.fail(i, f, "VIOLATION cycle %d (%s): the first thaw must leave the server down while Veeam holds it", i, f)
		}
		if s.q("veeam", "post-thaw") != 0 {
			s.fail(i, f, "cycle %d (%s): last thaw failed", i, f)
		}
	case fDupThaw:
		if !s.mustFreeze(i, f, freeze, row) {
			break
		}
		first := thaw()
		second := thaw() // the duplicate: must succeed and change nothing
		if first != 0 || second != 0 {
			s.fail(i, f, "cycle %d (%s): thaw exit %d, duplicate thaw exit %d", i, f, first, second)
		}
	case fKillWatch:
		if !s.mustFreeze(i, f, freeze, row) {
			break
		}
		simtest.KillWatchdogs(s.stateDir())
		if d.delay == 1 { // past the deadline with no watchdog: the thaw finds the hold intact
			time.Sleep(soakDeadline + 500*time.Millisecond)
		}
		if thaw() != 0 {
			s.fail(i, f, "cycle %d (%s): thaw after the watchdog was killed failed", i, f)
		}
		if d.delay == 1 {
			s.expectLog(i, f, "nothing ended it (no watchdog ran)")
		}
		row.recovered++
	case fStateFull:
		filler := s.fillState()
		if d.delay == 0 { // full before the freeze: nothing may be stopped that cannot be recorded
			if freeze() == 0 {
				s.snapshot(i, f, row)
				row.freezeOK++
			} else {
				row.freezeFailed++
				s.servingBy(i, f, 5*time.Second)
			}
			_ = os.Remove(filler)
			// A thaw after a freeze that failed before it could record
			// anything (not even that this caller's earlier, expired freeze
			// is superseded) may be told of that earlier freeze: honest,
			// once; the next thaw finds nothing.
			if thaw() != 0 && (!strings.Contains(s.newLog(), "late thaw: the freeze by "+c[0]) || thaw() != 0) {
				s.fail(i, f, "cycle %d (%s): thaw failed", i, f)
			}
			break
		}
		_ = os.Remove(filler)
		if !s.mustFreeze(i, f, freeze, row) {
			break
		}
		filler = s.fillState() // full between freeze and thaw: the thaw starts Domino all the same
		code := thaw()
		s.servingBy(i, f, 5*time.Second)
		_ = os.Remove(filler)
		if code != 0 {
			s.expectLog(i, f, "could not") // it said what it could not record
			thaw()                         // and the next thaw settles what is left
		}
		row.recovered++
	case fReboot:
		if !s.mustFreeze(i, f, freeze, row) {
			break
		}
		s.reboot()
		if s.q("recover", "--boot") != 0 {
			s.fail(i, f, "cycle %d (%s): recover --boot failed", i, f)
		}
		s.expectLog(i, f, "recover at boot")
		row.recovered++
	default:
		if !s.mustFreeze(i, f, freeze, row) {
			break
		}
		if thaw() != 0 {
			s.fail(i, f, "cycle %d (%s): thaw failed", i, f)
		}
	}
	s.servingBy(i, f, 5*time.Second)
}

// mustFreeze runs a freeze that has no fault to fail on and judges its
// snapshot. false: it failed only because the machine was too slow for
// the soak's short graceful wait (see slowStop); the cycle ends there.
func (s *soak) mustFreeze(i int, f fault, freeze func() int, row *tallyRow) bool {
	if freeze() != 0 {
		if s.slowStop(i, f, row) {
			return false
		}
		s.fail(i, f, "cycle %d (%s): freeze failed", i, f)
	}
	row.freezeOK++
	s.snapshot(i, f, row)
	return true
}

func (s *soak) mustFreezeArgs(i int, f fault, row *tallyRow, args ...string) bool {
	return s.mustFreeze(i, f, func() int { return s.q(args...) }, row)
}

// slowStop tells a freeze that failed because the machine was too slow
// from a bug: the log shows the graceful wait running out (or the stop
// using up the freeze's deadline window), the freeze reporting that as a
// failure and starting the server again,
// which then serves. That is quiesce keeping its promise on a loaded
// machine (the graceful wait counts from the start of the stop, process
// scan included); it is counted, and too many of them fail the soak.
func (s *soak) slowStop(i int, f fault, row *tallyRow) bool {
	log := s.newLog()
	forced := strings.Contains(log, "graceful shutdown timed out, escalating") &&
		strings.Contains(log, "could only be stopped by force")
	// or the stop took most of the soak's 4 s deadline window, and the
	// freeze refused to report a snapshot the watchdog would disturb
	late := strings.Contains(log, "the stop used up the freeze's deadline window")
	if !(forced || late) || !strings.Contains(log, "the application was started again") {
		return false
	}
	s.servingBy(i, f, 5*time.Second)
	row.slow++
	s.t.Logf("cycle %d (%s): the graceful wait ran out on a loaded machine; the freeze failed and restored the server (counted as slow)", i, f)
	return true
}

// expiredMeanwhile tells a hold that ended at its deadline, as promised,
// from a bug: on a loaded machine the second caller's freeze can outlast
// the first's short deadline (the soak's is 4 s; a real one is the
// caller's budget plus the watchdog margin), and the watchdog then ends
// the first freeze and starts the server. The log must show the watchdog
// expiring exactly that caller's freeze; it is counted as slow.
func (s *soak) expiredMeanwhile(i int, f fault, row *tallyRow, caller string) bool {
	log := s.newLog()
	if !strings.Contains(log, "freeze expired: no thaw came before the deadline") ||
		!strings.Contains(log, `"never_thawed":["`+caller+`"]`) {
		return false
	}
	row.slow++
	s.t.Logf("cycle %d (%s): %s's freeze reached its %s deadline on a loaded machine and the watchdog ended it (counted as slow)", i, f, caller, soakDeadline)
	return true
}

func (s *soak) expectLog(i int, f fault, want string) {
	if !strings.Contains(s.newLog(), want) {
		s.fail(i, f, "VIOLATION cycle %d (%s): the log does not explain it (no %q):\n%s", i, f, want, s.newLog())
	}
}

// reboot kills every process of the server and every watchdog, keeping
// the state directory, as a crash of the guest would.
func (s *soak) reboot() {
	ps := s.r.sim.Procs()
	for _, p := range ps {
		_ = proc.Signal(p, syscall.SIGKILL)
	}
	proc.Wait(context.Background(), ps, time.Now().Add(5*time.Second))
	simtest.KillWatchdogs(s.stateDir())
}

// stateDir is the state directory of the soak's configuration.
// fillState fills the state directory's file system and returns the
// file that does it.
func (s *soak) fillState() string {
	path := filepath.Join(filepath.Dir(s.stateDir()), "filler")
	f, err := os.Create(path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			return path
		}
	}
}

// record is the path of the server's freeze record.
func (s *soak) record() string {
	key := freeze.Instance{Kind: domino.TargetName, Ident: domino.CanonicalData(s.r.sim.Data)}.Key()
	return filepath.Join(s.stateDir(), key+".json")
}

func (s *soak) stateDir() string {
	b, _ := os.ReadFile(strings.TrimPrefix(s.r.env[0], "QUIESCE_CONFIG="))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "state_dir = ") {
			return strings.TrimPrefix(l, "state_dir = ")
		}
	}
	return ""
}

func (s *soak) report(took time.Duration) {
	var b strings.Builder
	fmt.Fprintf(&b, "\nchaos soak: %d cycles in %s, at most %d server(s) at once, 0 violations\n", soakCycles(), took.Round(time.Second), s.servers.Load())
	fmt.Fprintf(&b, "%-36s %6s %9s %13s %12s %10s %5s\n", "fault", "cycles", "freeze ok", "freeze failed", "snapshots ok", "recovered", "slow")
	slow := 0
	keys := make([]string, 0, len(s.tally))
	for f := range s.tally {
		keys = append(keys, string(f))
	}
	sort.Strings(keys)
	for _, k := range keys {
		r := s.tally[fault(k)]
		fmt.Fprintf(&b, "%-36s %6d %9d %13d %12d %10d %5d\n", k, r.cycles, r.freezeOK, r.freezeFailed, r.snapshotsOK, r.recovered, r.slow)
		slow += r.slow
	}
	fmt.Fprintf(&b, "slow: freezes failed (and restored) because the graceful wait ran out on a loaded machine: %d\n", slow)
	s.t.Log(b.String())
	if path := os.Getenv("QUIESCE_SOAK_REPORT"); path != "" {
		_ = os.WriteFile(path, []byte(b.String()), 0o644)
	}
	if ran := soakCycles() - soakFrom(); slow*20 > ran {
		s.t.Fatalf("%d of %d cycles were too slow for the graceful wait: the machine is overloaded, or stops got slower; the soak proves little", slow, ran)
	}
}

// parentOf reads a process's parent PID from /proc (0 when gone).
func parentOf(pid int32) int32 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return int32(ppid)
}
