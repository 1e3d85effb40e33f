//go:build linux

package online

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStatusKeepsHCLsFirstLine(t *testing.T) {
	dir := t.TempDir()
	if err := WriteStatus(dir, Status{State: DominoDone, Token: "t1", Backup: "20260101120000", Note: "two\nlines"}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, StatusFile))
	if first, _, _ := strings.Cut(string(b), "\n"); first != DominoDone {
		t.Fatalf("first line %q: HCL's scripts read the state there", first)
	}
	st, err := ReadStatus(dir)
	if err != nil || st.State != DominoDone || !st.Ours("t1") || st.Ours("t2") || st.Ours("") || st.Backup != "20260101120000" || st.Note != "two lines" {
		t.Fatalf("%+v %v", st, err)
	}
}

func TestStatusRefusesSymlinksAndHugeFiles(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.WriteFile(target, []byte("DOMINO-DONE\ntoken=x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, StatusFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadStatus(dir); err == nil {
		t.Fatal("read a status file through a symlink")
	}
	// Writing replaces the symlink; the file it pointed to is untouched.
	if err := WriteStatus(dir, Status{State: Requested, Token: "y"}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); !bytes.HasPrefix(b, []byte("DOMINO-DONE")) {
		t.Fatalf("wrote through the symlink: %q", b)
	}
	if st, err := ReadStatus(dir); err != nil || st.State != Requested {
		t.Fatalf("%+v %v", st, err)
	}
	if err := os.WriteFile(filepath.Join(dir, StatusFile), bytes.Repeat([]byte("x"), maxStatusSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadStatus(dir); !errors.Is(err, ErrUnsafeStatus) {
		t.Fatalf("huge status file: %v", err)
	}
	os.Remove(filepath.Join(dir, StatusFile))
	if _, err := ReadStatus(dir); !errors.Is(err, ErrNoStatus) {
		t.Fatalf("missing status file: %v", err)
	}
}

func TestParseArgs(t *testing.T) {
	a, err := ParseArgs([]string{"", "", "", "node", "Srv/Org", "SNAP", "20260101120000", "/backup"}, false)
	if err != nil || a.DeltaDir() != "/backup/node/SNAP/20260101120000" {
		t.Fatalf("%+v %v", a, err)
	}
	if _, err := ParseArgs([]string{"a"}, false); err == nil {
		t.Fatal("one argument accepted")
	}
	if _, err := ParseArgs([]string{"", "", "", "n", "s", "SNAP", "../../etc", "/b"}, false); err == nil {
		t.Fatal("a BackupStartDT that is a path was accepted")
	}
	// HCL: the 9th argument of a backup command is RetentionDays.
	if a, err := ParseArgs([]string{"", "", "", "n", "Default", "SNAP", "20260101120000", "/b", "7"}, false); err != nil || a.RetentionDays != "7" || a.RestoreFileName != "" {
		t.Fatalf("9 arguments to a backup command: %+v %v", a, err)
	}
	if a, err := ParseArgs([]string{"/d/mail/a.nsf", "mail/a.nsf", "ref", "n", "Default", "SNAP", "20260101120000", "/b", "/d/restore/a.DAD"}, true); err != nil || a.RestoreFileName != "/d/restore/a.DAD" {
		t.Fatalf("restore: %+v %v", a, err)
	}
	if _, err := ParseArgs([]string{"", "", "", "n", "s", "SNAP", "20260101120000", "/b"}, true); err == nil || !strings.Contains(err.Error(), "9 arguments") {
		t.Fatalf("a restore command without RestoreFileName: %v", err)
	}
}

func TestPruneKeepsNewestBackups(t *testing.T) {
	root := t.TempDir()
	ids := []string{"20260101000000", "20260102000000", "20260103000000"}
	for _, id := range ids {
		p := filepath.Join(root, id, "mail", "a.nsf.DELTA")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("d"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	other := filepath.Join(root, ids[0], "notes.txt") // not a delta: kept
	_ = os.WriteFile(other, []byte("x"), 0o644)
	if n := prune(root, 2); n != 1 {
		t.Fatalf("pruned %d, want 1", n)
	}
	if countFiles(filepath.Join(root, ids[0])) != 0 || countFiles(filepath.Join(root, ids[1])) != 1 || countFiles(filepath.Join(root, ids[2])) != 1 {
		t.Fatal("wrong backups pruned")
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatal("prune removed a file that is not a delta")
	}
	if n := prune(root, 0); n != 0 {
		t.Fatal("keep 0 pruned")
	}
}

// sideData is a data directory the Domino side accepts.
func sideData(t *testing.T) string {
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, "notes.ini"), nil, 0o644)
	return dir
}

// The snapshot start command writes the tag and DOMINO-DONE, then holds
// (on file events) until DONE: backup mode lasts until the snapshot is
// taken whatever Domino does once the command returns. CANCELLED and its
// limit fail the backup; the tag goes when it ends either way.
func TestSnapshotStartHoldsUntilDone(t *testing.T) {
	a := Args{BackupNode: "n", BackupMode: "SNAP", BackupStartDT: "20260101120000", BackupTargetDir: "/b", RetentionDays: "7"}
	for _, c := range []struct {
		name, then string
		want       int
		text       string
	}{
		{"done", Done, 0, OK + " - every database in backup mode (backup 20260101120000); snapshot taken after"},
		{"cancelled", Cancelled, 1, Err + " - cancelled by quiesce"},
		{"limit", "", 1, Err + " - no snapshot within"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := sideData(t)
			if err := WriteStatus(dir, Status{State: Requested, Token: "tok"}); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			done := make(chan int)
			began := time.Now()
			go func() { done <- (Side{Data: dir, Out: &out}).SnapshotStart(context.Background(), a, 2*time.Second) }()
			var st Status
			for deadline := time.Now().Add(5 * time.Second); st.State != DominoDone; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("no DOMINO-DONE: %+v", st)
				}
				st, _ = ReadStatus(dir)
			}
			if st.Backup != a.BackupStartDT || st.Deltas != a.DeltaDir() {
				t.Fatalf("DOMINO-DONE: %+v", st)
			}
			tag, err := ReadTag(filepath.Join(dir, TagName(a.BackupStartDT)))
			if err != nil || tag.Content != a.BackupStartDT || !tag.Ours {
				t.Fatalf("tag while held: %+v %v", tag, err)
			}
			select {
			case code := <-done:
				t.Fatalf("returned (%d) before the snapshot was reported: %s", code, out.String())
			case <-time.After(200 * time.Millisecond):
			}
			if c.then != "" {
				st.State, st.Note = c.then, "test"
				if err := WriteStatus(dir, st); err != nil {
					t.Fatal(err)
				}
			}
			code := <-done
			if code != c.want || !strings.Contains(out.String(), c.text) || (code != 0 && strings.Contains(out.String(), OK)) {
				t.Fatalf("exit %d: %s", code, out.String())
			}
			if c.then != "" && time.Since(began) > 1500*time.Millisecond {
				t.Fatalf("took %s to see the change: not event-driven", time.Since(began))
			}
			if _, err := os.Lstat(filepath.Join(dir, TagName(a.BackupStartDT))); !os.IsNotExist(err) {
				t.Fatalf("tag left in the data directory after the command: %v", err)
			}
			if st, _ := ReadStatus(dir); c.name == "limit" && st.State != Cancelled {
				t.Fatalf("after its limit the status is %+v, want CANCELLED for the thaw", st)
			}
		})
	}
}

// Tags quiesce left of other backups (the start command was killed) go at
// the next snapshot start; anyone else's tag stays; without a backup
// quiesce requested nothing is touched.
func TestSnapshotStartRemovesItsStaleTags(t *testing.T) {
	dir := sideData(t)
	old := filepath.Join(dir, TagName("20250101000000"))
	if err := writeTag(old, "20250101000000"); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, TagName("20250102000000"))
	_ = os.WriteFile(foreign, []byte("20250102000000\n"), 0o644)
	a := Args{BackupNode: "n", BackupMode: "SNAP", BackupStartDT: "20260101120000", BackupTargetDir: "/b"}
	var out bytes.Buffer
	if code := (Side{Data: dir, Out: &out}).SnapshotStart(context.Background(), a, time.Second); code == 0 {
		t.Fatalf("no backup pending, yet: %s", out.String())
	}
	if _, err := os.Stat(old); err != nil {
		t.Fatal("a tag went while no backup of quiesce's ran")
	}
	_ = WriteStatus(dir, Status{State: Requested, Token: "tok"})
	go func() {
		for {
			if st, _ := ReadStatus(dir); st.State == DominoDone {
				tags, _ := Tags(dir)
				if len(tags) != 2 || tags[0].ID != "20250102000000" || tags[1].ID != a.BackupStartDT {
					t.Errorf("tags in the snapshot: %+v", tags)
				}
				st.State = Done
				_ = WriteStatus(dir, st)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	out.Reset()
	if code := (Side{Data: dir, Out: &out}).SnapshotStart(context.Background(), a, 5*time.Second); code != 0 || !strings.Contains(out.String(), "20250101000000") {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Fatal("quiesce's stale tag is still there")
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Fatal("a tag quiesce did not write was removed")
	}
}

// The snapshot command returns at once when the start command held backup
// mode until the snapshot (DONE, COMPLETE); should it find the snapshot
// still pending it waits for DONE itself.
func TestSnapshotWaitsForDone(t *testing.T) {
	dir := sideData(t)
	a := Args{BackupNode: "n", BackupMode: "SNAP", BackupStartDT: "20260101120000", BackupTargetDir: "/b"}
	for _, c := range []struct {
		name, first, then string
		want              int
		text              string
	}{
		{"held by the start command", Done, "", 0, OK + " - snapshot of backup 20260101120000 taken already"},
		{"complete already", Complete, "", 0, OK + " - snapshot of backup 20260101120000 taken already"},
		{"pending, then done", DominoDone, Done, 0, OK + " - snapshot taken"},
		{"pending, then cancelled", DominoDone, Cancelled, 1, Err + " - cancelled by quiesce"},
		{"pending, limit", DominoDone, "", 1, Err + " - no snapshot within"},
		{"not requested", Requested, "", 1, Err + " - no snapshot pending"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := WriteStatus(dir, Status{State: c.first, Token: "tok", Backup: a.BackupStartDT}); err != nil {
				t.Fatal(err)
			}
			if c.then != "" {
				go func() {
					time.Sleep(100 * time.Millisecond)
					_ = WriteStatus(dir, Status{State: c.then, Token: "tok", Backup: a.BackupStartDT, Note: "test"})
				}()
			}
			var out bytes.Buffer
			began := time.Now()
			code := Side{Data: dir, Out: &out}.Snapshot(context.Background(), a, 2*time.Second)
			if code != c.want || !strings.Contains(out.String(), c.text) {
				t.Fatalf("exit %d: %s", code, out.String())
			}
			if c.want == 0 && c.then == "" && time.Since(began) > 500*time.Millisecond {
				t.Fatalf("took %s with the snapshot taken already", time.Since(began))
			}
			if c.then != "" && time.Since(began) > time.Second {
				t.Fatalf("took %s to see the change: not event-driven", time.Since(began))
			}
		})
	}
}

// The post command reports COMPLETE with the delta directory, copies the
// deltas where asked and prunes the older backups' in both places.
func TestPostReportsCopiesAndPrunes(t *testing.T) {
	data, target, copyTo := t.TempDir(), t.TempDir(), t.TempDir()
	_ = os.WriteFile(filepath.Join(data, "notes.ini"), nil, 0o644)
	var last Args
	for _, id := range []string{"20260101000000", "20260102000000", "20260103000000"} {
		last = Args{BackupNode: "Srv", BackupMode: "SNAP", BackupStartDT: id, BackupTargetDir: target}
		p := filepath.Join(last.DeltaDir(), "mail", "a.nsf.DELTA")
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		_ = os.WriteFile(p, []byte(id), 0o644)
		if err := WriteStatus(data, Status{State: Done, Token: "tok", Backup: id}); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if code := (Side{Data: data, Out: &out}).Post(last, 2, copyTo); code != 0 || !strings.Contains(out.String(), OK) {
			t.Fatalf("post %s: %d %s", id, code, out.String())
		}
	}
	st, err := ReadStatus(data)
	if err != nil || st.State != Complete || st.Deltas != last.DeltaDir() || st.Count != 1 || !st.Ours("tok") {
		t.Fatalf("status after post: %+v %v", st, err)
	}
	for _, root := range []string{target, copyTo} {
		base := filepath.Join(root, "Srv", "SNAP")
		if countFiles(filepath.Join(base, "20260101000000")) != 0 || countFiles(filepath.Join(base, "20260103000000")) != 1 || countFiles(filepath.Join(base, "20260102000000")) != 1 {
			t.Fatalf("%s: keep 2 not honoured", root)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(copyTo, "Srv", "SNAP", "20260103000000", "mail", "a.nsf.DELTA")); string(b) != "20260103000000" {
		t.Fatalf("copy: %q", b)
	}
}
