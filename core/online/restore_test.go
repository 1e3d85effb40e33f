//go:build linux

package online

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quiesce/quiesce/core/manifest"
)

// restorePointOf writes a restore point below root/name: a data directory
// with a database and the tag files of ids (the last its own).
func restorePointOf(t *testing.T, root, name, db string, ids ...string) string {
	t.Helper()
	data := filepath.Join(root, name, "local", "notesdata")
	if err := os.MkdirAll(filepath.Join(data, filepath.Dir(db)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, db), []byte("database of "+ids[len(ids)-1]), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if err := writeTag(tagPath(data, id), id); err != nil {
			t.Fatal(err)
		}
	}
	return data
}

func restoreArgs(data, file, id, target, to string) Args {
	return Args{PhysicalFileName: filepath.Join(data, file), FileName: file, BackupReference: "REF", BackupNode: "Srv", BackupName: "Default",
		BackupMode: "SNAP", BackupStartDT: id, BackupTargetDir: target, RestoreFileName: to}
}

// restore runs restore-db and checks the rule every outcome keeps: one
// line of refusal without the OK string's word, or the OK line last.
func restore(t *testing.T, s Side, a Args, o RestoreOptions) (int, string) {
	t.Helper()
	var out bytes.Buffer
	s.Out = &out
	code := s.RestoreDb(context.Background(), a, o)
	text := out.String()
	if code != 0 && (strings.Count(text, "\n") != 1 || !strings.HasPrefix(text, Err+" - ") || strings.Contains(strings.ToLower(text), "processed")) {
		t.Fatalf("a refusal must be one line without PROCESSED: %q", text)
	}
	if code == 0 && !strings.HasSuffix(text, OK+" ("+a.RestoreFileName+")\n") && !strings.HasSuffix(text, OK+" ("+a.RestoreFileName+DADExt+")\n") {
		t.Fatalf("success must end with the OK line naming the target: %q", text)
	}
	return code, text
}

func TestRestoreDbFindsItsRestorePoint(t *testing.T) {
	const x, y = "20260101000000", "20260102000000"
	data, target := sideData(t), t.TempDir()
	root := filepath.Join(t.TempDir(), "processed") // the OK string's word in a path: never in a refusal
	restorePointOf(t, root, "rp-x", "mail/a.nsf", x)
	restorePointOf(t, root, "rp-y", "mail/a.nsf", x, y) // x's tag left stale in y's snapshot
	s := Side{Data: data}
	o := RestoreOptions{MountRoots: []string{root}}

	// .DAD appended when Domino did not pass it, kept when it did.
	for _, to := range []string{filepath.Join(data, "restore", "a.nsf"), filepath.Join(data, "restore", "b.DAD")} {
		if code, out := restore(t, s, restoreArgs(data, "mail/a.nsf", x, target, to), o); code != 0 {
			t.Fatalf("restore of %s: %s", to, out)
		}
	}
	for _, p := range []string{"a.nsf.DAD", "b.DAD"} {
		if b, _ := os.ReadFile(filepath.Join(data, "restore", p)); string(b) != "database of "+x {
			t.Fatalf("%s holds %q: not backup %s's database (a stale tag in a later snapshot must not count)", p, b, x)
		}
	}
	// A target left from an earlier attempt is replaced, never taken for success.
	stale := filepath.Join(data, "restore", "c.DAD")
	_ = os.WriteFile(stale, []byte("old"), 0o644)
	if code, _ := restore(t, s, restoreArgs(data, "mail/a.nsf", y, target, stale), o); code != 0 {
		t.Fatal("restore of y failed")
	}
	if b, _ := os.ReadFile(stale); string(b) != "database of "+y {
		t.Fatalf("the old target is still there: %q", b)
	}

	for _, c := range []struct {
		name, id, file, want string
		o                    RestoreOptions
	}{
		{"no mount root", x, "mail/a.nsf", "no --mount-root given", RestoreOptions{}},
		{"not mounted", "20260103000000", "mail/a.nsf", "wrong restore point", o},
		{"nothing mounted", x, "mail/a.nsf", "no restore point under", RestoreOptions{MountRoots: []string{t.TempDir()}}},
		{"not in the restore point", x, "mail/b.nsf", "mail/b.nsf is not in the restore point", o},
		{"a path out of it", x, "../../etc/passwd", "is not a path inside the data directory", o},
	} {
		t.Run(c.name, func(t *testing.T) {
			if code, out := restore(t, s, restoreArgs(data, c.file, c.id, target, filepath.Join(data, "restore", "z.DAD")), c.o); code == 0 || !strings.Contains(out, c.want) {
				t.Fatalf("exit %d: %s", code, out)
			}
		})
	}

	// Two restore points of one backup: which one is meant is unknown.
	restorePointOf(t, root, "rp-x-again", "mail/a.nsf", x)
	if code, out := restore(t, s, restoreArgs(data, "mail/a.nsf", x, target, filepath.Join(data, "restore", "d.DAD")), o); code == 0 || !strings.Contains(out, "2 restore points mounted") {
		t.Fatalf("two restore points of one backup: %s", out)
	}
}

// A restore point's manifest names its backup; a tag that says another
// one, or a link that leads out of the restore point, is refused.
func TestRestoreDbRefusesWrongRestorePoints(t *testing.T) {
	const x = "20260101000000"
	data, target := sideData(t), t.TempDir()
	root := t.TempDir()
	rp := restorePointOf(t, root, "rp", "mail/a.nsf", x)
	o := RestoreOptions{MountRoots: []string{root}}
	s := Side{Data: data}
	to := filepath.Join(data, "restore", "a.DAD")

	if err := os.WriteFile(tagPath(rp, x), []byte("20250101000000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := restore(t, s, restoreArgs(data, "mail/a.nsf", x, target, to), o); code == 0 || !strings.Contains(out, `says "20250101000000"`) {
		t.Fatalf("a tag that says another backup: %s", out)
	}
	_ = writeTag(tagPath(rp, x), x)
	_ = os.Remove(filepath.Join(rp, "mail/a.nsf"))
	if err := os.Symlink(filepath.Join(data, "notes.ini"), filepath.Join(rp, "mail/a.nsf")); err != nil {
		t.Fatal(err)
	}
	if code, out := restore(t, s, restoreArgs(data, "mail/a.nsf", x, target, to), o); code == 0 || !strings.Contains(out, "leads out of it") {
		t.Fatalf("a link out of the restore point: %s", out)
	}
	if err := (manifest.Location{Dir: rp}).Write(manifest.Manifest{Backup: "20250101000000", Method: Name}); err != nil {
		t.Fatal(err)
	}
	if code, out := restore(t, s, restoreArgs(data, "mail/a.nsf", x, target, to), o); code == 0 || !strings.Contains(out, "is backup 20250101000000's") {
		t.Fatalf("a restore point whose manifest names another backup: %s", out)
	}
}

// The mount command runs when no mounted restore point holds the tag;
// restore-post runs the unmount command.
func TestRestoreMountsAndUnmounts(t *testing.T) {
	const x = "20260101000000"
	data, target, root := sideData(t), t.TempDir(), t.TempDir()
	src := restorePointOf(t, t.TempDir(), "backup-server", "a.nsf", x)
	script := filepath.Join(t.TempDir(), "mount")
	log := filepath.Join(t.TempDir(), "log")
	body := "#!/bin/sh\necho \"$0 $*\" >> " + log + "\n[ \"$1\" = mount ] && { [ \"$2\" = " + x + " ] || exit 1; mkdir -p " + root + "/vm && cp -r " + filepath.Dir(filepath.Dir(src)) + "/. " + root + "/vm/; }\nexit 0\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	o := RestoreOptions{MountRoots: []string{root}, MountCommand: []string{script, "mount"}, MountWait: 10 * time.Second, UnmountCommand: []string{script, "unmount"}}
	s := Side{Data: data}
	if code, out := restore(t, s, restoreArgs(data, "a.nsf", x, target, filepath.Join(data, "a.DAD")), o); code != 0 {
		t.Fatalf("restore with the mount command: %s", out)
	}
	var out bytes.Buffer
	s.Out = &out
	if code := s.RestorePost(context.Background(), o); code != 0 || !strings.Contains(out.String(), OK) {
		t.Fatalf("restore-post: %d %s", code, out.String())
	}
	if b, _ := os.ReadFile(log); string(b) != script+" mount "+x+"\n"+script+" unmount\n" {
		t.Fatalf("commands run: %q", b)
	}
}

// A .DELTA is copied to RestoreFileName exactly, from where Domino wrote
// it, from where post --copy-to kept it, or from a mounted later
// snapshot that holds the delta directory; none of them: refused.
func TestRestoreDbFindsTheDelta(t *testing.T) {
	const x = "20260101000000"
	data := sideData(t)
	live, copyTo, root := t.TempDir(), t.TempDir(), t.TempDir()
	put := func(base, body string) {
		p := filepath.Join(base, "Srv", "SNAP", x, "mail", "a.nsf.DELTA")
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := Side{Data: data}
	to := filepath.Join(data, "restore", "a.nsf.DELTA")
	for _, c := range []struct{ where, base string }{
		{"live", live}, {"copy-to", copyTo}, {"a restore point", filepath.Join(root, "rp2", "local", "backup", "nsf")},
	} {
		t.Run(c.where, func(t *testing.T) {
			put(c.base, c.where)
			o := RestoreOptions{MountRoots: []string{root}, CopyTo: []string{copyTo}}
			if code, out := restore(t, s, restoreArgs(data, "mail/a.nsf.DELTA", x, live, to), o); code != 0 {
				t.Fatalf("%s: %s", c.where, out)
			}
			if b, _ := os.ReadFile(to); string(b) != c.where {
				t.Fatalf("copied %q", b)
			}
			_ = os.RemoveAll(filepath.Join(c.base, "Srv"))
		})
	}
	if code, out := restore(t, s, restoreArgs(data, "mail/a.nsf.DELTA", x, live, to), RestoreOptions{MountRoots: []string{root}, CopyTo: []string{copyTo}}); code == 0 || !strings.Contains(out, "no mail/a.nsf.DELTA of backup "+x) {
		t.Fatalf("no delta anywhere: %s", out)
	}
}
