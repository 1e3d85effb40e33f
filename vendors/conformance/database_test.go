//go:build linux

package conformance

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/core/dbtest"
)

// A database server under test, with its workload: the cycles below are
// the same for every kind.
type dbServer interface {
	// Writer writes numbered transactions into the workload's tables.
	Writer(t *testing.T) *dbtest.Writer
	// Prober opens a connection every 100 ms: none may be refused.
	Prober() *dbtest.Prober
	// Verify starts a second server from the copy in dir and checks it:
	// every transaction of acked is there, every table checks clean, and
	// the copy agrees with what the freeze recorded (facts, nil for a
	// cycle without a hook). It returns the recovery time and what is
	// wrong ("" when nothing), and how much log its recovery replayed
	// (-1: not told).
	Verify(t testing.TB, dir string, acked []int, facts map[string]string) (recovery time.Duration, replayed int64, wrong string)
}

// dbRig is a database server with quiesce configured for it.
type dbRig struct {
	rig
	loop   *dbtest.Loop
	srv    dbServer
	cfg    string
	writer *dbtest.Writer
}

// newDBRig writes quiesce.conf with the section for the server (target)
// and extra [freeze] keys.
func newDBRig(t *testing.T, loop *dbtest.Loop, srv dbServer, target, freezeKeys string) *dbRig {
	t.Helper()
	dir := t.TempDir()
	t.Cleanup(func() { simtest.KillWatchdogs(filepath.Join(dir, "state")) })
	cfg := filepath.Join(dir, "quiesce.conf")
	body := fmt.Sprintf("%s\n[freeze]\nstate_dir = %s\nlock_wait = 30s\n%s", target, filepath.Join(dir, "state"), freezeKeys)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &dbRig{rig: rig{bin: simtest.Binary(t, "quiesce"), logFile: filepath.Join(dir, "quiesce.log")}, loop: loop, srv: srv, cfg: cfg}
	d.env = hookEnv{"QUIESCE_CONFIG=" + cfg, "QUIESCE_LOG_FILE=" + d.logFile}
	t.Cleanup(func() { noHolders(t, d.bin) })
	return d
}

// stateDir is the rig's state directory.
func (d *dbRig) stateDir() string { return filepath.Join(filepath.Dir(d.cfg), "state") }

// harness makes caller's harness for the rig; qemu-ga freezes the
// server's file system itself (guest-fsfreeze-freeze-list names it).
func (d *dbRig) harness(t *testing.T, caller string) Harness {
	for _, hs := range harnesses {
		if hs.name == caller {
			h := hs.make(t, &d.rig)
			if q, ok := h.(*qemuHarness); ok {
				q.mnt = d.loop.Dir
			}
			return h
		}
	}
	t.Fatalf("no harness %s", caller)
	return nil
}

// lockFacts are the facts the last freeze logged of its lock ("database
// lock taken"): the binary log position, the session.
func (d *dbRig) lockFacts(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(d.logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var last map[string]string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) != nil || m["msg"] != "database lock taken" {
			continue
		}
		last = map[string]string{}
		for k, v := range m {
			if s, ok := v.(string); ok {
				last[k] = s
			}
		}
	}
	return last
}

// cycle is one measured freeze, snapshot, thaw.
type cycle struct {
	caller           string
	hooked           bool
	freeze, thaw     time.Duration // the caller's calls of the hook (qemu: with its own fsfreeze)
	blocked          time.Duration // the longest a write waited during the cycle
	frozen           time.Duration // the file system frozen for the copy
	recovery         time.Duration // the copy's server: start to accepting connections
	replayed         int64         // bytes of log its recovery replayed; -1: not told
	wrong            string        // what the copy shows wrong
	refused, probeOK int
}

// run runs one cycle: with h (nil: no hook, the baseline) the caller
// freezes, the file system is frozen and copied (by qemu-ga itself for
// qemu), the caller thaws; then a second server starts from the copy.
func (d *dbRig) run(t *testing.T, h Harness) cycle {
	t.Helper()
	c := cycle{caller: "none", hooked: h != nil}
	if h != nil {
		c.caller = h.Name()
	}
	p := d.srv.Prober()
	copyDir := filepath.Join(dbtest.TempDir(t, ""), "copy")
	began := time.Now()
	var acked []int
	if h != nil {
		f := h.Freeze(t)
		c.freeze = time.Since(began)
		mustOK(t, f)
	}
	acked = d.writer.Acked(time.Now()) // every one acknowledged before the freeze returned
	if q, ok := h.(*qemuHarness); ok {
		fb := time.Now()
		if err := dbtest.CopyTree(q.mnt, copyDir); err != nil { // frozen by qemu-ga
			t.Fatal(err)
		}
		c.frozen = time.Since(fb)
	} else {
		var err error
		if c.frozen, err = d.loop.Snapshot(copyDir); err != nil {
			t.Fatal(err)
		}
	}
	var facts map[string]string
	if h != nil {
		facts = d.lockFacts(t)
		tb := time.Now()
		th := h.Thaw(t)
		c.thaw = time.Since(tb)
		if !th.OK {
			t.Logf("quiesce's log:\n%s", tailLines(d.log(t), 30))
		}
		mustOK(t, th)
	}
	time.Sleep(150 * time.Millisecond) // a write or two after the cycle, to see the blocked window end
	c.blocked = d.writer.Blocked(began, time.Now())
	c.probeOK, c.refused, _ = p.End()
	c.recovery, c.replayed, c.wrong = d.srv.Verify(t, copyDir, acked, facts)
	if len(acked) == 0 {
		t.Fatal("no transaction acknowledged before the freeze: is the writer writing?")
	}
	return c
}

// report logs the cycles side by side: the hook's against the baseline.
func report(t *testing.T, server string, cs []cycle) {
	t.Helper()
	by := map[string][]cycle{}
	var order []string
	for _, c := range cs {
		if _, ok := by[c.caller]; !ok {
			order = append(order, c.caller)
		}
		by[c.caller] = append(by[c.caller], c)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %-9s %6s  %-21s %-21s %-21s %-13s %-17s %-16s %s\n", server, "caller", "cycles", "write-blocked med/p99", "freeze hook med/p99", "thaw hook med/p99", "fs frozen med", "recovery med/p99", "log replayed med", "copies clean")
	for _, name := range order {
		list := by[name]
		pick := func(f func(c cycle) time.Duration) string {
			var ds []time.Duration
			for _, c := range list {
				ds = append(ds, f(c))
			}
			m, p := dbtest.Stats(ds)
			return fmt.Sprintf("%s/%s", m.Round(time.Millisecond), p.Round(time.Millisecond))
		}
		var rep []int64
		for _, c := range list {
			rep = append(rep, c.replayed)
		}
		sort.Slice(rep, func(i, j int) bool { return rep[i] < rep[j] })
		replayed := "-"
		if r := rep[len(rep)/2]; r >= 0 {
			replayed = fmt.Sprintf("%.1f MB", float64(r)/1e6)
		}
		frozen := strings.SplitN(pick(func(c cycle) time.Duration { return c.frozen }), "/", 2)[0]
		clean := 0
		for _, c := range list {
			if c.wrong == "" {
				clean++
			}
		}
		fmt.Fprintf(&b, "%s: %-9s %6d  %-21s %-21s %-21s %-13s %-17s %-16s %d/%d\n", server, name, len(list), pick(func(c cycle) time.Duration { return c.blocked }),
			pick(func(c cycle) time.Duration { return c.freeze }), pick(func(c cycle) time.Duration { return c.thaw }),
			frozen, pick(func(c cycle) time.Duration { return c.recovery }), replayed, clean, len(list))
	}
	t.Logf("measured cycles (the baseline, caller none, is the same snapshot with no hook):\n%s", b.String())
}

// noHolders fails the test when a holder of its quiesce binary outlived
// it.
func noHolders(t *testing.T, bin string) {
	t.Helper()
	if hs := holderPIDs(bin); len(hs) > 0 {
		t.Errorf("holder processes left after the test: %v", hs)
	}
}

// holderPIDs are the running "quiesce hold" processes of the quiesce
// binary bin (another test run's are not this test's).
func holderPIDs(bin string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if len(args) >= 2 && args[0] == bin && args[len(args)-1] == "hold" {
			out = append(out, pid)
		}
	}
	return out
}

// dbCallers are the callers the database cycles run through.
var dbCallers = []string{"vmware", "veeam", "arcserve", "qemu"}

// dbCycles is how many cycles each caller (and the baseline) runs.
const dbCycles = 3

// runCycles runs the measured cycles of every caller and the baseline,
// checks every cycle with a hook, and reports them side by side.
func runCycles(t *testing.T, d *dbRig, server string) {
	simtest.Eventually(t, 10*time.Second, "the writer writes", func() bool { return d.writer.Count() >= 20 })
	var all []cycle
	for i := 0; i < dbCycles; i++ {
		c := d.run(t, nil)
		t.Logf("baseline cycle %d: %+v", i, c)
		all = append(all, c)
	}
	for _, caller := range dbCallers {
		h := d.harness(t, caller)
		for i := 0; i < dbCycles; i++ {
			c := d.run(t, h)
			t.Logf("%s cycle %d: blocked %s, freeze %s, thaw %s, recovery %s", caller, i, c.blocked, c.freeze, c.thaw, c.recovery)
			if c.wrong != "" {
				t.Fatalf("%s cycle %d: the copy is wrong: %s\nquiesce's log:\n%s", caller, i, c.wrong, tailLines(d.log(t), 20))
			}
			if c.refused > 0 || c.probeOK == 0 {
				t.Fatalf("%s cycle %d: %d connections refused (%d accepted)", caller, i, c.refused, c.probeOK)
			}
			all = append(all, c)
		}
	}
	report(t, server, all)
}
