//go:build linux

package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/nrpcwatch"
	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// newOnlineRig is a rig whose server has Domino Backup set up to run
// quiesce, and quiesce configured for the given method.
func newOnlineRig(t *testing.T, o simtest.Options, method string) *rig {
	t.Helper()
	o.Backup = true
	sim := simtest.New(t, o)
	dir := t.TempDir()
	t.Cleanup(func() { simtest.KillWatchdogs(filepath.Join(dir, "state")) }) // as newRigWith
	cfg := filepath.Join(dir, "quiesce.conf")
	body := fmt.Sprintf("[domino]\nuser = %s\nlotus = %s\ndata = %s\nshutdown_timeout = 5s\nkill_wait = 2s\nstart_timeout = 20s\nmethod = %s\ndelta_dir = %s\nbackup_enter_timeout = 20s\nbackup_end_timeout = 20s\n\n[freeze]\nstate_dir = %s\nlock_wait = 30s\n",
		sim.User, sim.Lotus, sim.Data, method, sim.DeltaDir, filepath.Join(dir, "state"))
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &rig{sim: sim, bin: simtest.Binary(t, "quiesce"), logFile: filepath.Join(dir, "quiesce.log")}
	r.env = hookEnv{"QUIESCE_CONFIG=" + cfg, "QUIESCE_LOG_FILE=" + r.logFile}
	return r
}

var onlineID = regexp.MustCompile(`Domino Backup (\d{14})`)

func backupTasks(r *rig) int {
	n := 0
	for _, p := range r.sim.Procs() {
		if p.Name == "backup" {
			n++
		}
	}
	return n
}

// TestConformanceOnline runs every caller in online mode, under each order
// in which Domino may run its snapshot commands: a client sees the NRPC
// port accept throughout freeze, snapshot and thaw, the snapshot lies
// inside backup mode and restores with its deltas, and a fault before the
// snapshot falls back to stop/start (auto) or fails cleanly (online),
// never leaving a database in backup mode.
func TestConformanceOnline(t *testing.T) {
	simtest.Slow(t)
	for _, hs := range harnesses {
		for _, order := range simtest.Orders {
			t.Run(hs.name+"/order-"+order, func(t *testing.T) { conformanceOnline(t, hs, order) })
		}
	}
}

type harnessSpec = struct {
	name string
	make func(t *testing.T, r *rig) Harness
}

func conformanceOnline(t *testing.T, hs harnessSpec, order string) {
	t.Run("freeze-snapshot-thaw", func(t *testing.T) {
		r := newOnlineRig(t, simtest.Options{ShutdownSeconds: 0.2, BackupOrder: order}, "online")
		h := hs.make(t, r)
		r.startServer(t)
		w := nrpcwatch.Start(r.sim.Port)
		f := h.Freeze(t)
		mustOK(t, f)
		snap := r.sim.TakeSnapshot()
		th := h.Thaw(t)
		if !th.OK {
			t.Logf("quiesce's log:\n%s\nconsole:\n%s", r.log(t), r.sim.Console())
		}
		mustOK(t, th)
		if ok, refused := w.End(); refused > 0 || ok == 0 {
			t.Fatalf("NRPC: %d accepted, %d refused during the cycle", ok, refused)
		}
		m := onlineID.FindStringSubmatch(r.log(t))
		if m == nil {
			t.Fatalf("no online backup in quiesce's log:\n%s", r.log(t))
		}
		if rep := r.sim.Verify(snap.Dir); rep.Consistent() {
			t.Fatal("the snapshot verifies without its deltas: no writes during backup mode?")
		}
		if err := r.sim.CheckOnline(snap, m[1]); err != nil {
			t.Fatalf("a snapshot reported OK: %v", err)
		}
		simtest.Eventually(t, 10*time.Second, "backup task gone", func() bool { return backupTasks(r) == 0 })
	})
	for _, method := range []string{"online", "auto"} {
		t.Run("database-refuses-backup-mode-"+method, func(t *testing.T) {
			r := newOnlineRig(t, simtest.Options{ShutdownSeconds: 0.2, BackupOrder: order, Ini: map[string]string{"SimBackupFailDB": "names.nsf"}}, method)
			h := hs.make(t, r)
			r.startServer(t)
			f := h.Freeze(t)
			simtest.Eventually(t, 10*time.Second, "backup task gone", func() bool { return backupTasks(r) == 0 })
			switch method {
			case "online":
				if f.OK && hs.name != "qemu" { // qemu's stock hook reports success whatever happens
					t.Fatalf("the caller saw success for a failed online freeze: %+v", f)
				}
				if !r.sim.Serving() {
					t.Fatal("a failed online freeze left the server not serving")
				}
			case "auto":
				// Two outcomes are right, and which one comes depends on
				// how long the failed online attempt took (a loaded
				// machine): the fallback to a stop, with a consistent
				// snapshot; or, when what is left of the caller's limit
				// no longer holds a stop, a failed freeze that says so
				// and leaves the server serving.
				log := r.log(t)
				switch {
				case f.OK && strings.Contains(log, "fell back to stop/start"):
					if rep := r.sim.Verify(r.sim.Snapshot()); !rep.Consistent() {
						t.Fatalf("fallback snapshot: %+v", rep)
					}
				case !f.OK && strings.Contains(log, "no fallback to stop/start"):
					if !r.sim.Serving() {
						t.Fatal("a failed online freeze without fallback left the server not serving")
					}
				case hs.name == "qemu" && f.OK && strings.Contains(log, "no fallback to stop/start"): // qemu's stock hook reports success whatever happens
				default:
					t.Fatalf("neither a fallback nor a refusal that says why: %+v\n%s", f, log)
				}
			}
			mustOK(t, h.Thaw(t))
			if !r.sim.Serving() {
				t.Fatal("not serving after the thaw")
			}
		})
	}
}
