//go:build linux

package conformance

import (
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/core/dbtest"
	"github.com/quiesce/quiesce/core/proc"
)

// dbSoakCI is the database soak's length per server when nothing says
// otherwise (CI). QUIESCE_SOAK_DB_CYCLES sets it; make soak's
// QUIESCE_SOAK_CYCLES (1,000) sets it too.
const dbSoakCI = 50

func dbSoakCycles() int {
	for _, k := range []string{"QUIESCE_SOAK_DB_CYCLES", "QUIESCE_SOAK_CYCLES"} {
		if n, err := strconv.Atoi(os.Getenv(k)); err == nil && n > 0 {
			return n
		}
	}
	return dbSoakCI
}

// dbFault is what goes wrong in one database soak cycle.
type dbFault string

const (
	dNone       dbFault = "none"
	dNested     dbFault = "nested callers"
	dDupThaw    dbFault = "duplicate thaws"
	dThawNever  dbFault = "thaw never comes"
	dHolderKill dbFault = "holder SIGKILLed"
	dKillFreeze dbFault = "quiesce SIGKILLed during freeze"
	dKillThaw   dbFault = "quiesce SIGKILLed during thaw"
)

var dbFaults = []dbFault{dNone, dNested, dDupThaw, dThawNever, dHolderKill, dKillFreeze, dKillThaw}

// TestSoakDatabases is the chaos soak of the database freezes: random
// cycles through the four callers with the faults drawn at random, for a
// MariaDB and a PostgreSQL holding pg_backup_start (QUIESCE_SOAK_DB =
// mariadb or postgresql runs one). Invariants: a freeze reported
// successful and thawed successfully leaves a clean snapshot (one in
// five is restored and checked); a lost hold is reported SUSPECT and an
// expired one late; after every cycle no holder is left, the server is
// released, nothing is recorded; no connection is ever refused.
// QUIESCE_SOAK_SEED replays a run.
func TestSoakDatabases(t *testing.T) {
	seed := time.Now().UnixNano()
	if s, err := strconv.ParseInt(os.Getenv("QUIESCE_SOAK_SEED"), 10, 64); err == nil {
		seed = s
	}
	only := os.Getenv("QUIESCE_SOAK_DB")
	for _, kind := range []string{"mariadb", "postgresql"} {
		if only != "" && only != kind {
			continue
		}
		t.Run(kind, func(t *testing.T) {
			t.Logf("database soak seed %d (QUIESCE_SOAK_SEED=%d replays it), %d cycles", seed, seed, dbSoakCycles())
			var d *dbRig
			// The writer never stops: the data grows by up to 1 MiB a cycle.
			// MariaDB's 200 MiB were full at cycle 867 of seed 1796579053
			// and 890 of 1796574294 (the server's log: disk full, writes
			// wait), PostgreSQL's 300 MiB at about cycle 450 (measured as
			// it filled; seed 1796574294's holder lost its connection at
			// cycle 454). A freeze on a full disk fails, rightly: the
			// soak sizes its disk by its length.
			var released func() bool
			var serverLog string
			if kind == "mariadb" {
				var s *mariaServer
				d, s = newMariaRigOn(t, 200+dbSoakCycles(), "", "deadline = 4s\n")
				// A commit goes through once nothing holds the server; a hold
				// left behind blocks it for good. Ten seconds, not one: a
				// loaded machine can be slow to commit once.
				released = func() bool { return writesFlow(t, s.m, 10*time.Second) }
				serverLog = s.m.ErrorLog()
			} else {
				var s *pgServer
				d, s = newPGRigOn(t, 300+dbSoakCycles(), false, "pg_backup = always\n", "deadline = 4s\n")
				released = func() bool { return quiesceBackends(t, s) == 0 }
				serverLog = s.p.Log
			}
			soakDB(t, d, rand.New(rand.NewSource(seed)), released, serverLog)
		})
	}
}

// tidier is a server the soak tidies after every cycle.
type tidier interface{ Tidy(t testing.TB) }

// cycleScope is the test as one soak cycle sees it: what the cycle
// registers with Cleanup (its copy, the server started on the copy, that
// server's connection and directory) goes when the cycle ends, not when
// the test does. With the test's own Cleanup, 1,000 cycles kept every
// copy: about 13 GB of /tmp after 22 minutes of PostgreSQL's soak.
type cycleScope struct {
	testing.TB
	fns []func()
}

// newCycleScope opens a scope; should the cycle fail, the test's end
// closes it.
func newCycleScope(t testing.TB) *cycleScope {
	s := &cycleScope{TB: t}
	t.Cleanup(s.end)
	return s
}

func (s *cycleScope) Cleanup(f func()) { s.fns = append(s.fns, f) }

// end runs the cycle's cleanups, last registered first, as testing does.
func (s *cycleScope) end() {
	for len(s.fns) > 0 {
		f := s.fns[len(s.fns)-1]
		s.fns = s.fns[:len(s.fns)-1]
		f()
	}
}

func soakDB(t *testing.T, d *dbRig, rnd *rand.Rand, released func() bool, serverLog string) {
	d.writer = d.srv.Writer(t)
	defer d.writer.Stop()
	simtest.Eventually(t, 10*time.Second, "the writer writes", func() bool { return d.writer.Count() > 10 })
	q := func(args ...string) (int, string) { return runQ(t, d.env, args...) }
	began := time.Now()
	tally := map[dbFault]int{}
	checked := 0
	for i := 0; i < dbSoakCycles(); i++ {
		f := dbFaults[rnd.Intn(len(dbFaults))]
		pick := soakCallers[rnd.Intn(len(soakCallers))]
		c := pick[:]
		verify := rnd.Intn(5) == 0
		delay := time.Duration(rnd.Intn(300)) * time.Millisecond
		tally[f]++
		fail := func(format string, a ...any) {
			t.Helper()
			srv, _ := os.ReadFile(serverLog)
			t.Fatalf("VIOLATION database cycle %d (%s, %s): "+format+"\nlog tail:\n%s\nserver log tail (%s):\n%s",
				append(append([]any{i, f, c[0]}, a...), tailLines(d.log(t), 15), serverLog, tailLines(string(srv), 15))...)
		}
		p := d.srv.Prober()
		cycle := newCycleScope(t)
		thaw := []string{c[0], soakThaws[c[0]]}
		switch f {
		case dKillFreeze, dKillThaw:
			if f == dKillThaw {
				if code, out := q(c...); code != 0 {
					fail("freeze: %s", out)
				}
			}
			args := c
			if f == dKillThaw {
				args = thaw
			}
			cmd := exec.Command(d.bin, args...)
			cmd.Env = append(os.Environ(), d.env...)
			_ = cmd.Start()
			time.Sleep(delay)
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
			q(thaw...) // whatever it says: the watchdog or this thaw settles what the kill left
			q("recover")
		case dThawNever:
			if code, out := q(c...); code != 0 {
				fail("freeze: %s", out)
			}
			simtest.Eventually(t, 20*time.Second, "the watchdog ends the hold", released)
			simtest.Eventually(t, 10*time.Second, "the watchdog settles the freeze", func() bool { return len(holderPIDs(d.bin)) == 0 })
			if code, out := q(thaw...); code == 0 || !strings.Contains(out, "late thaw") {
				fail("late thaw: exit %d %s", code, out)
			}
		case dHolderKill:
			if code, out := q(c...); code != 0 {
				fail("freeze: %s", out)
			}
			_ = proc.Signal(holderOf(t, d), syscall.SIGKILL)
			if code, out := q(thaw...); code == 0 || !strings.Contains(out, "SUSPECT") {
				fail("thaw after the holder was killed: exit %d %s", code, out)
			}
		default:
			if code, out := q(c...); code != 0 {
				fail("freeze: %s", out)
			}
			acked := d.writer.Acked(time.Now())
			if f == dNested {
				other := soakCallers[(rnd.Intn(len(soakCallers)-1)+1+indexOf(c[0]))%len(soakCallers)]
				if code, out := q(other[:]...); code != 0 {
					fail("nested freeze by %s: %s", other[0], out)
				}
				if code, out := q(other[0], soakThaws[other[0]]); code != 0 {
					fail("nested thaw: %s", out)
				}
			}
			var copyDir string
			if verify {
				copyDir = filepath.Join(dbtest.TempDir(cycle, ""), "copy")
				if _, err := d.loop.Snapshot(copyDir); err != nil {
					t.Fatal(err)
				}
			}
			facts := d.lockFacts(t)
			code, out := q(thaw...)
			if code != 0 && strings.Contains(out, "late thaw") {
				break // a loaded machine outran the deadline: told, as it must be
			}
			if code != 0 {
				fail("thaw: %s", out)
			}
			if f == dDupThaw {
				if code, out := q(thaw...); code != 0 {
					fail("second thaw: %s", out)
				}
			}
			if verify {
				if _, _, wrong := d.srv.Verify(cycle, copyDir, acked, facts); wrong != "" {
					fail("the snapshot of a successful freeze is wrong: %s", wrong)
				}
				checked++
			}
		}
		simtest.Eventually(t, 20*time.Second, "no holder after the cycle", func() bool { return len(holderPIDs(d.bin)) == 0 })
		// A session whose holder is gone ends once the server notices
		// its client left, which a loaded machine can delay (CI: a
		// PostgreSQL backend still listed right after its holder's
		// quiesce was killed mid-freeze).
		if !simtest.Within(10*time.Second, released) {
			fail("the server is still held 10 s after the cycle")
		}
		if recs, _ := filepath.Glob(filepath.Join(d.stateDir(), "*.json")); len(recs) > 0 {
			simtest.Eventually(t, 10*time.Second, "no freeze recorded after the cycle", func() bool {
				recs, _ := filepath.Glob(filepath.Join(d.stateDir(), "*.json"))
				return len(recs) == 0
			})
		}
		if ok, refused, first := p.End(); refused > 0 {
			fail("%d connections refused (%d accepted): %v", refused, ok, first)
		}
		cycle.end()
		if td, ok := d.srv.(tidier); ok {
			td.Tidy(t)
		}
	}
	t.Logf("%d cycles in %s by fault %v; %d snapshots restored and checked", dbSoakCycles(), time.Since(began).Round(time.Second), tally, checked)
}

func indexOf(caller string) int {
	for i, c := range soakCallers {
		if c[0] == caller {
			return i
		}
	}
	return 0
}
