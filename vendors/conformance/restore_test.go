//go:build linux

package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// restoreCallers are the callers whose restore points an administrator
// mounts on the guest (file-level restore: Veeam, VMware-based products,
// Arcserve UDP; a qemu/Proxmox disk image), for a restore of one database
// through Domino's restore task.
var restoreCallers = map[string]string{"vmware": "dad", "veeam": "plain", "arcserve": "dad", "qemu": "plain"}

// mountRoot is a directory the Domino user can search, where the test
// mounts restore points.
func mountRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "quiesce-mnt-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	_ = os.Chmod(dir, 0o755)
	return dir
}

// mount puts a snapshot's data directory where a file-level restore
// would mount it: ROOT/NAME/local/notesdata.
func mount(t *testing.T, snap, root, name string) string {
	t.Helper()
	dst := filepath.Join(root, name, "local", "notesdata")
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(snap, dst); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, name)
}

// TestRestoreOnlineBackup, end to end for each caller and each order of
// Domino's snapshot commands: an online backup while the server writes
// (its databases change in backup mode), the restore point mounted, and
// one database restored to a new name through Domino's restore task
// (simdomino restore: quiesce domino-backup restore-db for the database
// and its .DELTA with HCL's 9 arguments, the delta applied, the
// restore-post command): the restored database holds exactly what it held
// when backup mode ended. A wrong restore point (another backup's) is
// refused with one line that cannot pass for Domino's OK string.
func TestRestoreOnlineBackup(t *testing.T) {
	for name, names := range restoreCallers {
		for i, order := range simtest.Orders {
			// the short tier: one caller per restore convention, each
			// under one of the two orders
			if testing.Short() && !(name == "vmware" && i == 0 || name == "qemu" && i == 1) {
				continue
			}
			t.Run(name+"/order-"+order, func(t *testing.T) {
				mnt := mountRoot(t)
				r := newOnlineRig(t, simtest.Options{ShutdownSeconds: 0.2, BackupOrder: order, RestoreOptions: "--mount-root " + mnt}, "online")
				h := harnessNamed(t, name)(t, r)
				r.startServer(t)
				backup := func() (string, simtest.Snap) {
					since := len(r.log(t))
					mustOK(t, h.Freeze(t))
					snap := r.sim.TakeSnapshot()
					mustOK(t, h.Thaw(t))
					m := onlineID.FindStringSubmatch(r.log(t)[since:])
					if m == nil {
						t.Fatalf("no online backup in quiesce's log:\n%s", r.log(t))
					}
					if err := r.sim.CheckOnline(snap, m[1]); err != nil {
						t.Fatalf("a snapshot reported OK: %v", err)
					}
					return m[1], snap
				}
				id, snap := backup()
				if rep := r.sim.Verify(snap.Dir); len(rep.Dirty) == 0 {
					t.Fatal("no database was written in backup mode: the restore proves nothing")
				}
				rp := mount(t, snap.Dir, mnt, "restorepoint-1")

				code, out := r.sim.Restore(id, "names.nsf", "restored/names-"+name+".nsf", names)
				if code != 0 || !strings.Contains(out, "it holds what it held when backup mode ended") || !strings.Contains(out, "(delta applied: true)") {
					t.Fatalf("restore: exit %d\n%s", code, out)
				}
				if _, err := os.Stat(filepath.Join(r.sim.Data, "restored", "names-"+name+".nsf.DELTA")); !os.IsNotExist(err) {
					t.Fatalf("the delta is left beside the restored database: %v", err)
				}

				// Backup 2's restore point mounted instead of backup 1's.
				id2, snap2 := backup()
				if err := os.RemoveAll(rp); err != nil {
					t.Fatal(err)
				}
				mount(t, snap2.Dir, mnt, "restorepoint-2")
				code, out = r.sim.Restore(id, "names.nsf", "restored/names-wrong.nsf", names)
				var said []string // what quiesce's restore-db printed, as Domino's console shows it
				for _, l := range strings.Split(out, "\n") {
					if _, after, ok := strings.Cut(l, "Restore: [restore db] "); ok {
						said = append(said, after)
					}
				}
				if code == 0 || len(said) != 1 || !strings.HasPrefix(said[0], "Return: ERROR - wrong restore point") || !strings.Contains(said[0], id2) ||
					strings.Contains(strings.ToUpper(said[0]), "PROCESSED") {
					t.Fatalf("restore from the wrong restore point: exit %d, restore-db said %q\n%s", code, said, out)
				}
				if _, err := os.Stat(filepath.Join(r.sim.Data, "restored", "names-wrong.nsf")); !os.IsNotExist(err) {
					t.Fatalf("a refused restore left a database: %v", err)
				}
			})
		}
	}
}
