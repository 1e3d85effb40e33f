//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/nrpcwatch"
	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/core/online"
	"github.com/quiesce/quiesce/core/runas"
)

// newOnlineGuest is a simulated server with Domino Backup set up to run
// this quiesce, and quiesce configured with the given method.
func newOnlineGuest(t *testing.T, o simtest.Options, method, domino, freeze string) *guest {
	t.Helper()
	o.Backup = true
	if o.ShutdownSeconds == 0 {
		o.ShutdownSeconds = 0.2
	}
	sim := simtest.New(t, o)
	dir := t.TempDir()
	g := &guest{sim: sim, bin: simtest.Binary(t, "quiesce"), cfg: filepath.Join(dir, "quiesce.conf"),
		state: filepath.Join(dir, "state"), logFile: filepath.Join(dir, "quiesce.log")}
	body := fmt.Sprintf("[domino]\nuser = %s\nlotus = %s\ndata = %s\nshutdown_timeout = 20s\nkill_wait = 2s\nstart_timeout = 20s\nmethod = %s\ndelta_dir = %s\nbackup_enter_timeout = 20s\nbackup_end_timeout = 20s\n%s\n[freeze]\nstate_dir = %s\nlock_wait = 30s\n%s",
		sim.User, sim.Lotus, sim.Data, method, sim.DeltaDir, domino, g.state, freeze)
	if err := os.WriteFile(g.cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.killWatchdogs)
	return g
}

// forOrders runs an online test under each order in which Domino may run
// the snapshot commands (simtest.Orders): backup mode ending when the
// Snapshot Start Command returns, or when the Backup Snapshot Command does.
func forOrders(t *testing.T, test func(t *testing.T, o simtest.Options)) {
	for _, order := range simtest.Orders {
		t.Run("order-"+order, func(t *testing.T) { test(t, simtest.Options{BackupOrder: order}) })
	}
}

// nrpcDone ends the client and fails the test on any outage it saw.
func nrpcDone(t *testing.T, c *nrpcwatch.Watch) {
	t.Helper()
	if ok, failed := c.End(); failed > 0 || ok == 0 {
		t.Fatalf("NRPC during the cycle: %d connections accepted, %d refused", ok, failed)
	}
}

var backupIDRe = regexp.MustCompile(`Domino Backup (\d{14})`)

func backupID(t *testing.T, out string) string {
	t.Helper()
	m := backupIDRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no backup identity in %q", out)
	}
	return m[1]
}

// backupTasks lists the running backup task processes.
func backupTasks(g *guest) int {
	n := 0
	for _, p := range g.sim.Procs() {
		if p.Name == "backup" {
			n++
		}
	}
	return n
}

// noBackupMode fails unless Domino Backup is over: no task, no status file.
func noBackupMode(t *testing.T, g *guest) {
	t.Helper()
	simtest.Eventually(t, 10*time.Second, "no backup task and no status file left", func() bool {
		_, err := os.Lstat(filepath.Join(g.sim.Data, online.StatusFile))
		return backupTasks(g) == 0 && os.IsNotExist(err)
	})
}

func TestOnlineCycleKeepsServingAndIsRestorable(t *testing.T) {
	forOrders(t, func(t *testing.T, o simtest.Options) {
		g := newOnlineGuest(t, o, "online", "", "")
		g.mustRun(t, "start")
		client := nrpcwatch.Start(g.sim.Port)
		out := g.mustRun(t, "vmware", "freeze")
		id := backupID(t, out)
		snap := g.sim.TakeSnapshot()
		thaw := g.mustRun(t, "vmware", "thaw")
		nrpcDone(t, client)
		if !strings.Contains(thaw, "delta files of Domino Backup "+id) {
			t.Fatalf("thaw does not report the deltas: %s", thaw)
		}
		if rep := g.sim.Verify(snap.Dir); rep.Consistent() {
			t.Fatal("the snapshot verifies without its deltas: the databases were not being written")
		}
		if err := g.sim.CheckOnline(snap, id); err != nil {
			t.Fatalf("a snapshot reported OK: %v\n%s", err, g.sim.Console())
		}
		noBackupMode(t, g)
		// The next backup's deltas do not restore this snapshot.
		id2 := backupID(t, g.mustRun(t, "veeam", "pre-freeze"))
		g.mustRun(t, "veeam", "post-thaw")
		if code, v := g.sim.VerifyWithDeltas(snap.Dir, g.sim.BackupDeltaDir(id2)); code == 0 || id2 == id {
			t.Fatalf("snapshot of %s verified with the deltas of %s: %s", id, id2, v)
		}
	})
}

func TestOnlineNestedCallersJoin(t *testing.T) {
	forOrders(t, func(t *testing.T, o simtest.Options) {
		g := newOnlineGuest(t, o, "auto", "", "")
		g.mustRun(t, "start")
		client := nrpcwatch.Start(g.sim.Port)
		id := backupID(t, g.mustRun(t, "veeam", "pre-freeze"))
		if out := g.mustRun(t, "vmware", "freeze"); !strings.Contains(out, "vmware joined") || !strings.Contains(out, id) {
			t.Fatalf("second caller: %s", out)
		}
		snap := g.sim.TakeSnapshot()
		statusShowsOnlineFreeze(t, g, id, "veeam", "vmware")
		if out := g.mustRun(t, "veeam", "post-thaw"); !strings.Contains(out, "veeam thawed; still in backup mode") || !strings.Contains(out, "by vmware") {
			t.Fatalf("first thaw: %s", out)
		}
		if backupTasks(g) != 1 {
			t.Fatal("backup mode ended while vmware still held it")
		}
		g.mustRun(t, "vmware", "thaw")
		nrpcDone(t, client)
		if err := g.sim.CheckOnline(snap, id); err != nil {
			t.Fatalf("a snapshot reported OK: %v", err)
		}
		noBackupMode(t, g)
		if out := g.mustRun(t, "status"); strings.Contains(out, "FROZEN") {
			t.Fatalf("status after the last thaw still shows a freeze:\n%s", out)
		}
	})
}

// statusShowsOnlineFreeze: during an online freeze, status says Domino
// serves in backup mode, by whom, and what the watchdog will do; --json
// carries the backup's ID on Domino's entry.
func statusShowsOnlineFreeze(t *testing.T, g *guest, id string, holders ...string) {
	t.Helper()
	out := g.mustRun(t, "status")
	for _, want := range append([]string{"FROZEN ONLINE", id, "the watchdog ends Domino's backup mode"}, holders...) {
		if !strings.Contains(out, want) {
			t.Fatalf("status lacks %q:\n%s", want, out)
		}
	}
	var st struct {
		Targets []targetView `json:"targets"`
	}
	if err := json.Unmarshal([]byte(g.mustRun(t, "status", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Targets) == 0 || st.Targets[0].Freeze == nil || st.Targets[0].Freeze.Online == nil ||
		st.Targets[0].Freeze.Online.BackupID != id || len(st.Targets[0].Freeze.Holders) != len(holders) {
		t.Fatalf("status --json: %+v", st)
	}
}

// Faults before the snapshot: online fails cleanly (method = online) or
// falls back to stop/start (auto); never a database left in backup mode.
func TestOnlineFaults(t *testing.T) {
	simtest.Slow(t)
	cases := []struct {
		name, method string
		ini          map[string]string
		fallback     bool
	}{
		{"task fails to load, online", "online", map[string]string{"SimBackupFailLoad": "1"}, false},
		{"task fails to load, auto falls back", "auto", map[string]string{"SimBackupFailLoad": "1"}, true},
		{"database refuses backup mode, online", "online", map[string]string{"SimBackupFailDB": "mail.box"}, false},
		{"database refuses backup mode, auto falls back", "auto", map[string]string{"SimBackupFailDB": "mail.box"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			forOrders(t, func(t *testing.T, o simtest.Options) { onlineFault(t, o, c.method, c.ini, c.fallback) })
		})
	}
}

func onlineFault(t *testing.T, o simtest.Options, method string, ini map[string]string, fallback bool) {
	o.Ini = ini
	g := newOnlineGuest(t, o, method, "", "")
	g.mustRun(t, "start")
	code, out := g.run(t, "vmware", "freeze")
	noBackupMode(t, g)
	if !fallback {
		if code == 0 || !strings.Contains(out, "online backup failed") || !strings.Contains(out, "no database left in backup mode") {
			t.Fatalf("freeze: exit %d %s", code, out)
		}
		if !g.sim.Serving() {
			t.Fatal("a failed online freeze left the server not serving")
		}
		g.mustRun(t, "vmware", "thaw")
		return
	}
	if code != 0 || !strings.Contains(out, "fell back to stop/start") {
		t.Fatalf("freeze: exit %d %s", code, out)
	}
	if rep := g.sim.Verify(g.sim.Snapshot()); !rep.Consistent() || g.sim.Serving() {
		t.Fatalf("fallback: serving=%v snapshot %+v", g.sim.Serving(), rep)
	}
	g.mustRun(t, "vmware", "thaw")
	if !g.sim.Serving() {
		t.Fatal("not serving after the thaw")
	}
}

// Domino's own limit for the snapshot start command (the simulator's;
// Domino documents none) runs out before the thaw: Domino kills the
// command that holds backup mode, so its tag stays behind. The thaw says
// the snapshot is not restorable, and backup mode is over. The next
// snapshot holds exactly its own tag (the stale one is gone) and
// restores.
func TestOnlineDominoLimitBeforeThaw(t *testing.T) {
	simtest.Slow(t)
	forOrders(t, func(t *testing.T, o simtest.Options) {
		o.Ini = map[string]string{"SimBackupSnapshotTimeout": "1"}
		g := newOnlineGuest(t, o, "online", "", "")
		g.mustRun(t, "start")
		stale := backupID(t, g.mustRun(t, "vmware", "freeze"))
		simtest.Eventually(t, 10*time.Second, "Domino Backup gives up", func() bool { return backupTasks(g) == 0 })
		code, out := g.run(t, "vmware", "thaw")
		if code == 0 || !strings.Contains(out, "not restorable") {
			t.Fatalf("thaw after Domino's limit: exit %d %s", code, out)
		}
		noBackupMode(t, g)
		if !g.sim.Serving() {
			t.Fatal("not serving")
		}
		if _, err := os.Stat(filepath.Join(g.sim.Data, online.TagName(stale))); err != nil {
			t.Fatalf("the killed command's tag is not left behind (%v): this test proves nothing", err)
		}

		g.sim.SetIni("SimBackupSnapshotTimeout", "")
		id := backupID(t, g.mustRun(t, "vmware", "freeze"))
		snap := g.sim.TakeSnapshot()
		g.mustRun(t, "vmware", "thaw")
		tags, _ := filepath.Glob(filepath.Join(snap.Dir, "dominobackup_*.tag"))
		if len(tags) != 1 || filepath.Base(tags[0]) != online.TagName(id) {
			t.Fatalf("the next snapshot holds the tags %v, want only %s", tags, online.TagName(id))
		}
		if err := g.sim.CheckOnline(snap, id); err != nil {
			t.Fatal(err)
		}
		if left, _ := filepath.Glob(filepath.Join(g.sim.Data, "dominobackup_*.tag")); len(left) != 0 {
			t.Fatalf("tags left in the data directory: %v", left)
		}
	})
}

// No thaw comes: the watchdog ends backup mode at the window's end, before
// Domino's own limit; a late thaw fails: that snapshot has no deltas.
func TestOnlineWatchdogEndsBackupMode(t *testing.T) {
	simtest.Slow(t)
	forOrders(t, func(t *testing.T, o simtest.Options) {
		g := newOnlineGuest(t, o, "online", "backup_max_window = 2s\n", "")
		g.mustRun(t, "start")
		client := nrpcwatch.Start(g.sim.Port)
		g.mustRun(t, "vmware", "freeze")
		simtest.Eventually(t, 2*time.Second+8*time.Second, "the watchdog ends backup mode", func() bool { return backupTasks(g) == 0 })
		nrpcDone(t, client)
		noBackupMode(t, g)
		if log := g.log(t); !strings.Contains(log, "online freeze ended without a thaw") || !strings.Contains(log, `"never_thawed":["vmware"]`) {
			t.Fatalf("log:\n%s", log)
		}
		if code, out := g.run(t, "vmware", "thaw"); code == 0 || !strings.Contains(out, "late thaw") || !strings.Contains(out, "not restorable") {
			t.Fatalf("late thaw: exit %d %s", code, out)
		}
		g.mustRun(t, "vmware", "thaw") // and then nothing is frozen
	})
}

// quiesce is killed while the databases enter backup mode: the watchdog
// armed before it cancels the backup; a reboot voids an online freeze.
func TestOnlineCrashAndReboot(t *testing.T) {
	simtest.Slow(t)
	forOrders(t, onlineCrashAndReboot)
}

func onlineCrashAndReboot(t *testing.T, o simtest.Options) {
	o.Ini = map[string]string{"SimBackupMsPerDB": "300"}
	g := newOnlineGuest(t, o, "online", "", "")
	g.mustRun(t, "start")
	cmd := g.cmd("vmware", "freeze")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	simtest.Eventually(t, 10*time.Second, "the backup task runs", func() bool { return backupTasks(g) == 1 })
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	noBackupMode(t, g)
	simtest.Eventually(t, 10*time.Second, "the online state is settled", func() bool {
		b, _ := os.ReadFile(g.record())
		return !strings.Contains(string(b), `"token"`)
	})
	g.mustRun(t, "vmware", "thaw")

	g.sim.SetIni("SimBackupMsPerDB", "")
	g.mustRun(t, "vmware", "freeze")
	g.killWatchdogs()
	for _, p := range g.sim.Procs() { // the reboot
		_ = syscall.Kill(int(p.PID), syscall.SIGKILL)
	}
	simtest.Eventually(t, 10*time.Second, "the server is gone", func() bool { return len(g.sim.Procs()) == 0 })
	if out := g.mustRun(t, "recover", "--boot"); !strings.Contains(out, "discarded") {
		t.Fatalf("recover --boot: %s", out)
	}
	g.mustRun(t, "start")
	id := backupID(t, g.mustRun(t, "vmware", "freeze"))
	g.mustRun(t, "vmware", "thaw")
	if id == "" {
		t.Fatal("no backup after the reboot")
	}
}

// The Domino side runs unprivileged and cannot make the root side act: it
// refuses root; a symlink planted as the status file is replaced, never
// written through; a forged DOMINO-DONE without the freeze's token never
// counts.
func TestDominoBackupSideIsUnprivileged(t *testing.T) {
	simtest.Slow(t)
	forOrders(t, dominoBackupSideIsUnprivileged)
}

func dominoBackupSideIsUnprivileged(t *testing.T, o simtest.Options) {
	o.Ini = map[string]string{"SimBackupMsPerDB": "200"}
	g := newOnlineGuest(t, o, "online", "", "")
	g.mustRun(t, "start")
	args := []string{"domino-backup", "snapshot-start", "--data", g.sim.Data, "", "", "", "SimServer", "SimServer/SimOrg", "SNAP", "20260101000000", g.sim.DeltaDir}
	if code, out := g.run(t, args...); code != ExitPrivilege || !strings.Contains(out, "Return: ERROR") || !strings.Contains(out, "root") {
		t.Fatalf("as root: exit %d %s", code, out)
	}
	acct, err := runas.Lookup(g.sim.User)
	if err != nil {
		t.Fatal(err)
	}
	asUser := func(args ...string) (int, string) {
		cmd := runas.Command(acct, g.sim.Data, g.bin, args...)
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}
	if code, out := asUser(args...); code == 0 || !strings.Contains(out, "Return: ERROR - No backup pending") {
		t.Fatalf("without a request: exit %d %s", code, out)
	}

	victim := filepath.Join(t.TempDir(), "root-owned")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	status := filepath.Join(g.sim.Data, online.StatusFile)
	if err := os.Symlink(victim, status); err != nil {
		t.Fatal(err)
	}
	forged := make(chan struct{})
	go func() { // forge DOMINO-DONE as soon as the freeze asks
		defer close(forged)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for ctx.Err() == nil {
			if b, err := os.ReadFile(status); err == nil && strings.HasPrefix(string(b), online.Requested) {
				_ = os.WriteFile(status+".forged", []byte("DOMINO-DONE\ntoken=forged\nbackup=20260101000000\n"), 0o644)
				_ = os.Rename(status+".forged", status)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	code, out := g.run(t, "vmware", "freeze")
	<-forged
	if code == 0 {
		t.Fatalf("a forged status file made the freeze succeed: %s", out)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Fatalf("root wrote through the planted symlink: %q", b)
	}
	simtest.Eventually(t, 20*time.Second, "no backup task left", func() bool { return backupTasks(g) == 0 })
	if !g.sim.Serving() {
		t.Fatal("not serving")
	}
}
