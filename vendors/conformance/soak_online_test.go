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

	"github.com/quiesce/quiesce/cmd/simdomino/nrpcwatch"
	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// TestSoakOnline: randomized online cycles (method = auto) with the online
// faults and the order of Domino's snapshot commands drawn at random.
// Invariants: a freeze that reports success gives a snapshot taken inside
// backup mode and restorable with its deltas (or, after a fallback,
// consistent on its own); the server is serving after every cycle; no backup task and no
// status file outlive a cycle. QUIESCE_SOAK_CYCLES scales it (a fifth of
// the plain soak's cycles, at least 10); QUIESCE_SOAK_SEED replays a run.
func TestSoakOnline(t *testing.T) {
	simtest.Slow(t)
	seed := time.Now().UnixNano()
	if s, err := strconv.ParseInt(os.Getenv("QUIESCE_SOAK_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("online soak seed %d (QUIESCE_SOAK_SEED=%d replays it)", seed, seed)
	rnd := rand.New(rand.NewSource(seed))
	r := newOnlineRig(t, simtest.Options{ShutdownSeconds: 0.3, StartSeconds: 0.2}, "auto")
	cfg := strings.TrimPrefix(r.env[0], "QUIESCE_CONFIG=")
	b, _ := os.ReadFile(cfg)
	b = []byte(strings.Replace(string(b), "backup_enter_timeout = 20s", "backup_enter_timeout = 20s\nbackup_max_window = 6s", 1))
	if err := os.WriteFile(cfg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r.startServer(t)
	q := func(args ...string) (int, string) {
		cmd := exec.Command(r.bin, args...)
		cmd.Env = append(os.Environ(), r.env...)
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}
	faults := []string{"none", "nested callers", "duplicate thaws", "thaw never comes", "quiesce killed during freeze", "database refuses backup mode"}
	tally := map[string]int{}
	for i := 0; i < max(soakCycles()/5, 10); i++ {
		f := faults[rnd.Intn(len(faults))]
		tally[f]++
		order := simtest.Orders[rnd.Intn(len(simtest.Orders))]
		r.sim.SetIni("SimBackupOrder", order)
		fail := func(format string, a ...any) {
			t.Helper()
			b, _ := os.ReadFile(r.logFile)
			t.Fatalf("VIOLATION online cycle %d (%s, order %s): "+format+"\nconsole:\n%s\nlog tail:\n%s", append(append([]any{i, f, order}, a...), r.sim.Console(), tailLines(string(b), 15))...)
		}
		if f == "database refuses backup mode" {
			r.sim.SetIni("SimBackupFailDB", "names.nsf")
		}
		switch f {
		case "quiesce killed during freeze":
			r.sim.SetIni("SimBackupMsPerDB", "100")
			cmd := exec.Command(r.bin, "vmware", "freeze")
			cmd.Env = append(os.Environ(), r.env...)
			_ = cmd.Start()
			time.Sleep(time.Duration(100+rnd.Intn(600)) * time.Millisecond)
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
			r.sim.SetIni("SimBackupMsPerDB", "")
			q("vmware", "thaw")
		case "thaw never comes":
			if code, out := q("veeam", "pre-freeze"); code != 0 {
				fail("freeze: %s", out)
			}
		default:
			w := nrpcwatch.Start(r.sim.Port)
			code, out := q("veeam", "pre-freeze")
			if code != 0 {
				fail("freeze: %s", out)
			}
			if f == "nested callers" {
				if code, out := q("vmware", "freeze"); code != 0 {
					if !strings.Contains(out, "not joined") {
						fail("nested freeze: %s", out)
					}
					// Too little of backup mode's window was left for a
					// second snapshot (a loaded machine): refused, as it
					// must be; the first caller's cycle goes on.
					t.Logf("online cycle %d (%s): the second caller's join was refused near the end of backup mode", i, f)
					q("veeam", "post-thaw")
					w.End()
					break
				}
			}
			snap := r.sim.TakeSnapshot()
			if f == "nested callers" {
				q("vmware", "thaw")
			}
			code, thaw := q("veeam", "post-thaw")
			if code != 0 && strings.Contains(thaw, "not restorable") {
				w.End() // the window ran out first (a loaded machine): the thaw says so; nothing to check
				break
			}
			if code != 0 {
				fail("thaw: %s", thaw)
			}
			if f == "duplicate thaws" {
				if code, out := q("veeam", "post-thaw"); code != 0 {
					fail("second thaw: %s", out)
				}
			}
			ok, refused := w.End()
			if strings.Contains(out, "fell back to stop/start") {
				if rep := r.sim.Verify(snap.Dir); !rep.Consistent() {
					fail("fallback snapshot inconsistent: %+v", rep)
				}
				break
			}
			if refused > 0 || ok == 0 {
				fail("NRPC refused %d times (%d accepted) in an online cycle", refused, ok)
			}
			m := onlineID.FindStringSubmatch(out)
			if m == nil {
				fail("freeze did not report a backup: %s", out)
			}
			if err := r.sim.CheckOnline(snap, m[1]); err != nil {
				fail("a snapshot reported OK: %v", err)
			}
		}
		r.sim.SetIni("SimBackupFailDB", "")
		simtest.Eventually(t, 15*time.Second, "no backup task or status file after the cycle", func() bool {
			_, err := os.Lstat(filepath.Join(r.sim.Data, "dominobackup_snapshot.lck"))
			return backupTasks(r) == 0 && os.IsNotExist(err)
		})
		if f == "thaw never comes" {
			if code, out := q("veeam", "post-thaw"); code == 0 || !strings.Contains(out, "not restorable") {
				fail("late thaw after the window: exit %d %s", code, out)
			}
		}
		simtest.Eventually(t, 30*time.Second, "serving after the cycle", r.sim.Serving)
	}
	t.Logf("online cycles by fault: %v", tally)
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
