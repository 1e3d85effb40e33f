//go:build linux

package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/nrpcwatch"
	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// newOnlineRigShutdown is newOnlineRig with a graceful shutdown wait that
// no 60 s limit can hold.
func newOnlineRigShutdown(t *testing.T, o simtest.Options, method, shutdown string) *rig {
	t.Helper()
	o.Backup = true
	sim := simtest.New(t, o)
	dir := t.TempDir()
	t.Cleanup(func() { simtest.KillWatchdogs(filepath.Join(dir, "state")) }) // as newRigWith
	cfg := filepath.Join(dir, "quiesce.conf")
	body := fmt.Sprintf("[domino]\nuser = %s\nlotus = %s\ndata = %s\nshutdown_timeout = %s\nkill_wait = 2s\nstart_timeout = 20s\nmethod = %s\ndelta_dir = %s\nbackup_enter_timeout = 20s\nbackup_end_timeout = 20s\n\n[freeze]\nstate_dir = %s\nlock_wait = 30s\n",
		sim.User, sim.Lotus, sim.Data, shutdown, method, sim.DeltaDir, filepath.Join(dir, "state"))
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &rig{sim: sim, bin: simtest.Binary(t, "quiesce"), logFile: filepath.Join(dir, "quiesce.log")}
	r.env = hookEnv{"QUIESCE_CONFIG=" + cfg, "QUIESCE_LOG_FILE=" + r.logFile}
	return r
}

// The stop cannot fit the cloud caller's 60 s, Domino Backup is set up:
// check says the stop does not fit but online mode does (exit 0), and the
// caller's freeze puts Domino into backup mode with no outage; the
// snapshot lies inside backup mode and is restorable with its deltas,
// under each order of Domino's snapshot commands. With method = stop the same
// setup is refused at once, leaving Domino serving.
func TestCloudOnlineWhenStopCannotFit(t *testing.T) {
	simtest.Slow(t)
	for _, name := range hardCallers {
		for _, order := range simtest.Orders {
			t.Run(name+"/order-"+order, func(t *testing.T) { cloudOnline(t, name, order) })
		}
		t.Run(name+"-method-stop", func(t *testing.T) {
			r := newOnlineRigShutdown(t, simtest.Options{ShutdownSeconds: 0.2}, "stop", "10m")
			h := harnessNamed(t, name)(t, r)
			r.startServer(t)
			out, code := r.check(t, checkFlags(h)...)
			block := callerLines(out, name)
			if !strings.Contains(block, "online    not used: method = stop") || !strings.Contains(block, "refused at once") || code != 1 {
				t.Fatalf("check exit %d:\n%s", code, out)
			}
			w := nrpcwatch.Start(r.sim.Port)
			f := h.Freeze(t)
			if f.OK || !strings.Contains(f.Stderr, "freeze refused, nothing stopped") {
				t.Fatalf("freeze: %+v", f)
			}
			if ok, refused := w.End(); refused > 0 || ok == 0 {
				t.Fatalf("NRPC: %d accepted, %d refused around a refused freeze", ok, refused)
			}
		})
	}
}

func cloudOnline(t *testing.T, name, order string) {
	r := newOnlineRigShutdown(t, simtest.Options{ShutdownSeconds: 0.2, BackupOrder: order}, "auto", "10m")
	h := harnessNamed(t, name)(t, r)
	r.startServer(t)
	out, code := r.check(t, checkFlags(h)...)
	block := callerLines(out, name)
	for _, want := range []string{fmt.Sprintf("%-9s DOES NOT FIT", name), "online    FITS: freezes use Domino Backup (no outage), backup mode within 20s; method = auto",
		"with auto, a freeze while Domino Backup cannot be used falls back to the stop above"} {
		if !strings.Contains(block, want) {
			t.Fatalf("check lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(block, "refused at once") || code != 0 {
		t.Fatalf("check exit %d; a caller that online mode covers is reported as failing:\n%s", code, out)
	}
	w := nrpcwatch.Start(r.sim.Port)
	tr := &transcript{}
	f := h.Freeze(t)
	tr.step(f)
	mustOK(t, f)
	snap := r.sim.TakeSnapshot()
	th := h.Thaw(t)
	tr.step(th)
	mustOK(t, th)
	if ok, refused := w.End(); refused > 0 || ok == 0 {
		t.Fatalf("NRPC: %d accepted, %d refused during the cycle", ok, refused)
	}
	m := onlineID.FindStringSubmatch(r.log(t))
	if m == nil {
		t.Fatalf("no online backup in quiesce's log:\n%s", r.log(t))
	}
	if err := r.sim.CheckOnline(snap, m[1]); err != nil {
		t.Fatalf("a snapshot reported OK: %v", err)
	}
	tr.add("snapshot with its deltas: restorable")
	simtest.Eventually(t, 10*time.Second, "backup task gone", func() bool { return backupTasks(r) == 0 })
	for i := range tr.lines { // the backup's identity is its start time
		tr.lines[i] = strings.ReplaceAll(tr.lines[i], m[1], "<BACKUP>")
	}
	tr.golden(t, name, "online-stop-does-not-fit")
}
