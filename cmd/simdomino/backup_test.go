//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/cmd/simdomino/timeline"
)

// standIn writes a snapshot integration script that plays a backup
// product: at "snapshot" it copies the data directory (the snapshot) while
// the server keeps writing, then returns after hold.
func standIn(t *testing.T, copyDir string, hold time.Duration) string {
	return standInAt(t, copyDir, hold, "snapshot")
}

// standInAt is standIn taking the copy in the command op (snapshot-start
// or snapshot).
func standInAt(t *testing.T, copyDir string, hold time.Duration, op string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "simdomino-standin-") // reachable by the server's user
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	_ = os.Chmod(dir, 0o755)
	script := filepath.Join(dir, "integration.sh")
	// $1 = domino-backup, $2 = the operation, then Domino's arguments:
	// $3 PhysicalFileName ... $9 BackupStartDT, ${10} BackupTargetDir,
	// ${11} RetentionDays.
	body := fmt.Sprintf(`#!/bin/sh
[ $# = 11 ] || { echo "Return: ERROR - $# arguments"; exit 1; }
case "$2" in
snapshot-start) echo "$9" > "dominobackup_$9.tag" ;;
esac
if [ "$2" = %[3]q ]; then mkdir -p %[1]q && cp -r . %[1]q/copy-$9 && sleep %[2]f; rm -f "dominobackup_$9.tag"; fi
echo "Return: PROCESSED"
`, copyDir, hold.Seconds(), op)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(copyDir, 0o777); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(copyDir, 0o777)
	return script
}

// runBackupTask loads the backup task and waits until it is done or failed.
func runBackupTask(t *testing.T, sim *simtest.Sim) (ok bool, id string) {
	t.Helper()
	since := time.Now()
	if code, out := asUser(t, sim, "server", "-c", "load backup -s"); code != 0 {
		t.Fatalf("load backup -s: %d %s", code, out)
	}
	var ev timeline.Event
	simtest.Eventually(t, 20*time.Second, "the backup task ends", func() bool {
		evs := sim.Timeline()
		if e, found := timeline.Last(evs, evBackupDone, since); found {
			ev, ok = e, true
			return true
		}
		_, failed := timeline.Last(evs, evBackupFailed, since)
		return failed
	})
	if e, found := timeline.Last(sim.Timeline(), evBackupModeAll, since); found {
		id = strings.TrimSpace(e.Detail)
	}
	_ = ev
	return ok, id
}

func TestBackupSnapshotIsRestorableOnlyWithItsDeltas(t *testing.T) {
	simtest.Slow(t)
	copies := filepath.Join(scratch(t), "copies")
	sim := startSim(t, simtest.Options{Backup: true, BackupCommand: standIn(t, copies, 300*time.Millisecond)})
	ok, first := runBackupTask(t, sim)
	if !ok {
		t.Fatalf("backup failed:\n%s", sim.Console())
	}
	if !sim.Serving() {
		t.Fatal("the server stopped serving during the backup")
	}
	copyDir := filepath.Join(copies, "copy-"+first)
	if rep := sim.Verify(copyDir); rep.Consistent() {
		t.Fatalf("a copy taken in backup mode verifies without its deltas: %+v", rep)
	}
	if code, out := sim.VerifyWithDeltas(copyDir, sim.BackupDeltaDir(first)); code != 0 {
		t.Fatalf("copy + its deltas does not verify: %s", out)
	}
	entries, _ := filepath.Glob(filepath.Join(sim.BackupDeltaDir(first), "*.DELTA"))
	if len(entries) == 0 {
		t.Fatal("no .DELTA files")
	}
	ok, second := runBackupTask(t, sim)
	if !ok || second == first {
		t.Fatalf("second backup: ok=%v id=%s (first %s)", ok, second, first)
	}
	if code, out := sim.VerifyWithDeltas(copyDir, sim.BackupDeltaDir(second)); code == 0 {
		t.Fatalf("a copy verifies with another backup's deltas: %s", out)
	}
}

// The two orders HCL documents: backup mode ends when the Snapshot Start
// Command returns ("start"), or when the Backup Snapshot Command does
// ("snapshot"). A snapshot taken in the command that holds backup mode
// restores with its deltas; one taken in the other command, under the
// start order, is outside backup mode and does not.
func TestBackupOrders(t *testing.T) {
	for _, c := range []struct {
		order, copyAt string
		restorable    bool
	}{
		{"snapshot", "snapshot", true},
		{"snapshot", "snapshot-start", true},
		{"start", "snapshot-start", true},
		{"start", "snapshot", false},
	} {
		t.Run(c.order+"-order-copy-at-"+c.copyAt, func(t *testing.T) {
			copies := filepath.Join(scratch(t), "copies")
			sim := startSim(t, simtest.Options{Backup: true, BackupOrder: c.order, BackupCommand: standInAt(t, copies, 300*time.Millisecond, c.copyAt)})
			ok, id := runBackupTask(t, sim)
			if !ok {
				t.Fatalf("backup failed:\n%s", sim.Console())
			}
			code, out := sim.VerifyWithDeltas(filepath.Join(copies, "copy-"+id), sim.BackupDeltaDir(id))
			if (code == 0) != c.restorable {
				t.Fatalf("restorable %v, want %v: %s", code == 0, c.restorable, out)
			}
		})
	}
}

func TestBackupFaults(t *testing.T) {
	cases := []struct {
		name    string
		ini     map[string]string
		hold    time.Duration
		console string
	}{
		{"task fails to load", map[string]string{"SimBackupFailLoad": "1"}, 0, "Unable to load task backup"},
		{"database refuses backup mode", map[string]string{"SimBackupFailDB": "mail.box"}, 0, "mail.box cannot be put into backup mode"},
		{"snapshot command times out", map[string]string{"SimBackupSnapshotTimeout": "0.5"}, 5 * time.Second, "snapshot command did not return within"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			copies := filepath.Join(scratch(t), "copies")
			sim := startSim(t, simtest.Options{Backup: true, BackupCommand: standIn(t, copies, c.hold), Ini: c.ini})
			since := time.Now()
			code, out := asUser(t, sim, "server", "-c", "load backup -s")
			if code != 0 {
				t.Fatalf("load: %d %s", code, out)
			}
			simtest.Eventually(t, 20*time.Second, "console says "+c.console, func() bool { return strings.Contains(sim.Console(), c.console) })
			if _, done := timeline.Last(sim.Timeline(), evBackupDone, since); done {
				t.Fatal("the backup reports done")
			}
			simtest.Eventually(t, 10*time.Second, "no backup task left", func() bool {
				for _, p := range sim.Procs() {
					if p.Name == backupTask {
						return false
					}
				}
				return true
			})
			if !sim.Serving() {
				t.Fatal("server not serving")
			}
		})
	}
}

func TestLoadBackupWithoutConfiguration(t *testing.T) {
	sim := startSim(t, simtest.Options{})
	if code, out := asUser(t, sim, "server", "-c", "load backup -s"); code != 0 {
		t.Fatalf("load: %d %s", code, out)
	}
	simtest.Eventually(t, 10*time.Second, "the console explains", func() bool {
		return strings.Contains(sim.Console(), "Backup: Error: no backup configuration")
	})
}

// scratch is a temporary directory the server's user can write to.
func scratch(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "simdomino-scratch-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	_ = os.Chmod(dir, 0o777)
	return dir
}
