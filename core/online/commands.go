package online

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// The Domino side: the commands Domino Backup runs as the Domino user. They
// only read and write the status file and tag file in the data directory
// and the delta directory Domino names; they never touch quiesce's own
// state and never start or stop anything. What they print is what Domino
// Backup judges: "Return: PROCESSED" or "Return: ERROR".

// Result strings, as in HCL's configuration (SnapshotStartOkString, ...).
const (
	OK  = "Return: PROCESSED"
	Err = "Return: ERROR"
)

// Args are Domino Backup's positional arguments.
type Args struct {
	PhysicalFileName, FileName, BackupReference, BackupNode, BackupName, BackupMode, BackupStartDT, BackupTargetDir string
	RestoreFileName                                                                                                 string
}

// ParseArgs takes the 8 positional arguments (9 for the post command).
func ParseArgs(a []string, post bool) (Args, error) {
	want := 8
	if post {
		want = 9
	}
	if len(a) != want && !(post && len(a) == 8) {
		//lint:ignore ST1005 "Domino Backup" is a product name
		return Args{}, fmt.Errorf("Domino Backup passes %d arguments, got %d", want, len(a))
	}
	r := Args{a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], ""}
	if len(a) == 9 {
		r.RestoreFileName = a[8]
	}
	if !backupID.MatchString(r.BackupStartDT) {
		return r, fmt.Errorf("BackupStartDT %q is not a Domino backup time (YYYYMMDDhhmmss)", r.BackupStartDT)
	}
	return r, nil
}

var backupID = regexp.MustCompile(`^[0-9]{8,20}$`)

// DeltaDir is where Domino's Backup DB command puts this backup's deltas:
// BackupTargetDir/BackupNode/BackupMode/BackupStartDT (HCL's layout).
func (a Args) DeltaDir() string {
	return filepath.Join(a.BackupTargetDir, a.BackupNode, a.BackupMode, a.BackupStartDT)
}

// Side is the Domino side of the protocol for one data directory.
type Side struct {
	Data string
	Out  io.Writer
}

func (s Side) say(format string, a ...any) { fmt.Fprintf(s.Out, format+"\n", a...) }

func (s Side) fail(format string, a ...any) int {
	s.say(Err+" - "+format, a...)
	return 1
}

// CheckUser refuses to run as root or as anyone but the owner of the data
// directory: these commands are Domino's, run as the Domino user.
func (s Side) CheckUser() error {
	st, err := os.Stat(s.Data)
	if err != nil {
		return err
	}
	if !st.IsDir() || !fileIs(st, "notes.ini", s.Data) {
		return fmt.Errorf("%s is not a Domino data directory (no notes.ini)", s.Data)
	}
	return checkOwner(st)
}

func fileIs(_ fs.FileInfo, name, dir string) bool {
	_, err := os.Stat(filepath.Join(dir, name))
	return err == nil
}

func tagPath(data, id string) string { return filepath.Join(data, "dominobackup_"+id+".tag") }

// SnapshotStart runs when every database is in backup mode. If quiesce
// requested this backup, it writes the tag file that identifies the
// snapshot, flushes the file system and reports DOMINO-DONE: the caller's
// freeze returns. No sleep: the flush is waited for, not guessed.
func (s Side) SnapshotStart(a Args) int {
	st, err := ReadStatus(s.Data)
	if err != nil || st.State != Requested {
		if errors.Is(err, ErrNoStatus) {
			st.State = "none"
		}
		return s.fail("No backup pending (status %s): this snapshot was not requested by quiesce", st.State)
	}
	tag := tagPath(s.Data, a.BackupStartDT)
	if err := os.WriteFile(tag, []byte(a.BackupStartDT+"\n"), 0o644); err != nil {
		return s.fail("cannot write the tag file: %v", err)
	}
	if err := flush(s.Data, tag); err != nil {
		return s.fail("cannot flush the file system: %v", err)
	}
	st.State, st.Backup, st.Note = DominoDone, a.BackupStartDT, "every database in backup mode"
	if err := WriteStatus(s.Data, st); err != nil {
		return s.fail("cannot write the status file: %v", err)
	}
	s.say("%s - every database in backup mode (backup %s); quiesce lets the snapshot be taken", OK, a.BackupStartDT)
	return 0
}

// Snapshot runs after SnapshotStart and holds backup mode until quiesce
// reports the snapshot taken (DONE), waiting on status file events. It
// fails the backup when quiesce cancels it, the status file goes away or
// changes hands, or limit passes (set it below Domino's own limit).
func (s Side) Snapshot(ctx context.Context, a Args, limit time.Duration) int {
	began := time.Now()
	defer os.Remove(tagPath(s.Data, a.BackupStartDT))
	st, err := ReadStatus(s.Data)
	// DONE already: the snapshot was taken before Domino ran this command.
	if err != nil || (st.State != DominoDone && st.State != Done) || st.Backup != a.BackupStartDT {
		return s.fail("no snapshot pending for backup %s (status %q)", a.BackupStartDT, st.State)
	}
	token := st.Token
	w, err := newDirWatch(s.Data)
	if err != nil {
		return s.fail("%v", err)
	}
	defer w.Close()
	err = w.until(ctx, began.Add(limit), nil, func() (bool, error) {
		st, err = ReadStatus(s.Data)
		switch {
		case err != nil:
			return false, fmt.Errorf("status file: %w", err)
		case !st.Ours(token):
			return false, errors.New("the status file now belongs to another backup")
		case st.State == Done:
			return true, nil
		case st.State == Cancelled:
			return false, fmt.Errorf("cancelled by quiesce: %s", st.Note)
		}
		return false, nil
	})
	if errors.Is(err, errTimeout) {
		st.State, st.Note = Cancelled, fmt.Sprintf("no snapshot within %s: backup failed", limit)
		_ = WriteStatus(s.Data, st)
		return s.fail("no snapshot within %s: backup mode ends without one", limit)
	}
	if err != nil {
		return s.fail("%v", err)
	}
	s.say("%s - snapshot taken after %.3fs; backup mode ends", OK, time.Since(began).Seconds())
	return 0
}

// Post runs when backup mode has ended and the deltas are written. It
// reports COMPLETE with where the deltas are, copies them where the
// administrator asked, and prunes older deltas beyond keep.
func (s Side) Post(a Args, keep int, copyTo string) int {
	dir := a.DeltaDir()
	n := countFiles(dir)
	if copyTo != "" && n > 0 {
		if err := copyTree(dir, filepath.Join(copyTo, a.BackupNode, a.BackupMode, a.BackupStartDT)); err != nil {
			return s.fail("cannot copy the deltas to %s: %v", copyTo, err)
		}
	}
	pruned := prune(filepath.Join(a.BackupTargetDir, a.BackupNode, a.BackupMode), keep)
	if copyTo != "" {
		pruned += prune(filepath.Join(copyTo, a.BackupNode, a.BackupMode), keep)
	}
	st, err := ReadStatus(s.Data)
	if err == nil && st.Backup == a.BackupStartDT && st.State != Cancelled {
		st.State, st.Deltas, st.Count, st.Note = Complete, dir, n, "backup mode ended; deltas written"
		if err := WriteStatus(s.Data, st); err != nil {
			return s.fail("cannot write the status file: %v", err)
		}
	}
	s.say("%s - backup %s complete: %d delta files in %s; %d older backups pruned", OK, a.BackupStartDT, n, dir, pruned)
	return 0
}

func countFiles(dir string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && strings.HasSuffix(d.Name(), ".DELTA") {
			n++
		}
		return nil
	})
	return n
}

// prune removes the deltas of all but the keep newest backups under dir
// (one directory per BackupStartDT): .DELTA files, then empty directories,
// as HCL's prune script does. keep <= 0 prunes nothing.
func prune(dir string, keep int) int {
	if keep <= 0 {
		return 0
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && backupID.MatchString(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	n := 0
	for _, id := range ids[:max(len(ids)-keep, 0)] {
		root := filepath.Join(dir, id)
		var dirs []string
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
			case d.IsDir():
				dirs = append(dirs, path)
			case d.Type().IsRegular() && strings.HasSuffix(d.Name(), ".DELTA"):
				_ = os.Remove(path)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			_ = os.Remove(dirs[i]) // only when empty
		}
		n++
	}
	return n
}

// copyTree copies the regular files under src to dst (no symlinks).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}
