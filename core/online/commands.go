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

// Args are Domino Backup's positional arguments (HCL's order). The 9th is
// RetentionDays for the backup commands and RestoreFileName for the
// restore commands (HCL's "Native OS commands"); older HCL scripts pass 8
// to the backup commands.
type Args struct {
	PhysicalFileName, FileName, BackupReference, BackupNode, BackupName, BackupMode, BackupStartDT, BackupTargetDir string
	RetentionDays                                                                                                   string // 9th argument of a backup command; "" when 8 were passed
	RestoreFileName                                                                                                 string // 9th argument of a restore command
}

// ParseArgs takes Domino Backup's positional arguments: 8 or 9 for the
// backup commands (snapshot-start, snapshot, post), 9 for the restore
// commands, whose 9th is the file to restore to.
func ParseArgs(a []string, restore bool) (Args, error) {
	switch {
	case restore && len(a) != 9:
		//lint:ignore ST1005 "Domino Backup" is a product name
		return Args{}, fmt.Errorf("Domino Backup passes 9 arguments to a restore command, got %d", len(a))
	case len(a) != 8 && len(a) != 9:
		//lint:ignore ST1005 "Domino Backup" is a product name
		return Args{}, fmt.Errorf("Domino Backup passes 8 or 9 arguments, got %d", len(a))
	}
	r := Args{PhysicalFileName: a[0], FileName: a[1], BackupReference: a[2], BackupNode: a[3], BackupName: a[4], BackupMode: a[5], BackupStartDT: a[6], BackupTargetDir: a[7]}
	if len(a) == 9 {
		if restore {
			r.RestoreFileName = a[8]
		} else {
			r.RetentionDays = a[8]
		}
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

// SnapshotStart runs when every database is in backup mode. If quiesce
// requested this backup, it removes the tag files quiesce left of other
// backups (see removeStaleTags), writes this backup's tag file, flushes
// the file system and reports DOMINO-DONE: the caller's freeze returns
// and the snapshot is taken. No sleep: the flush is waited for, not
// guessed.
//
// Then it holds: it returns only when quiesce's thaw reports the snapshot
// taken (DONE). HCL documents two orders: Domino ends backup mode when
// this command returns (docs/snapshot.md, interface.md), or only when the
// Backup Snapshot Command returns (the Veeam integration). Held here,
// backup mode lasts until the snapshot exists under both, and the Backup
// Snapshot Command has nothing left to wait for. CANCELLED, a status file
// that goes away or changes hands, or limit fail the backup; the tag
// file goes when this command ends (the snapshot has it by then).
func (s Side) SnapshotStart(ctx context.Context, a Args, limit time.Duration) int {
	began := time.Now()
	st, err := ReadStatus(s.Data)
	if err != nil || st.State != Requested {
		if errors.Is(err, ErrNoStatus) {
			st.State = "none"
		}
		return s.fail("No backup pending (status %s): this snapshot was not requested by quiesce", st.State)
	}
	// A backup quiesce requested is the one running (the freeze refuses
	// to start while another backup task runs): any other tag of quiesce's
	// is stale.
	stale := removeStaleTags(s.Data, a.BackupStartDT)
	tag := tagPath(s.Data, a.BackupStartDT)
	if err := writeTag(tag, a.BackupStartDT); err != nil {
		return s.fail("cannot write the tag file: %v", err)
	}
	defer os.Remove(tag)
	if err := flush(s.Data, tag); err != nil {
		return s.fail("cannot flush the file system: %v", err)
	}
	st.State, st.Backup, st.Deltas, st.Note = DominoDone, a.BackupStartDT, a.DeltaDir(), "every database in backup mode"
	if err := WriteStatus(s.Data, st); err != nil {
		return s.fail("cannot write the status file: %v", err)
	}
	if len(stale) > 0 {
		s.say("removed the tag files quiesce left of earlier backups: %s", strings.Join(stale, ", "))
	}
	if err := s.holdUntilDone(ctx, st.Token, began, limit); err != nil {
		return s.fail("%v", err)
	}
	s.say("%s - every database in backup mode (backup %s); snapshot taken after %.3fs; backup mode may end", OK, a.BackupStartDT, time.Since(began).Seconds())
	return 0
}

// holdUntilDone waits on status file events until the status says the
// snapshot is taken (DONE, or COMPLETE already). On limit it writes
// CANCELLED, so that quiesce's thaw knows the backup failed.
func (s Side) holdUntilDone(ctx context.Context, token string, began time.Time, limit time.Duration) error {
	w, err := newDirWatch(s.Data)
	if err != nil {
		return err
	}
	defer w.Close()
	var st Status
	err = w.until(ctx, began.Add(limit), nil, func() (bool, error) {
		st, err = ReadStatus(s.Data)
		switch {
		case err != nil:
			return false, fmt.Errorf("status file: %w", err)
		case !st.Ours(token):
			return false, errors.New("the status file now belongs to another backup")
		case st.State == Done || st.State == Complete:
			return true, nil
		case st.State == Cancelled:
			return false, fmt.Errorf("cancelled by quiesce: %s", st.Note)
		}
		return false, nil
	})
	if errors.Is(err, errTimeout) {
		st.State, st.Note = Cancelled, fmt.Sprintf("no snapshot within %s: backup failed", limit)
		_ = WriteStatus(s.Data, st)
		return fmt.Errorf("no snapshot within %s: backup mode ends without one", limit)
	}
	return err
}

// Snapshot runs after SnapshotStart. The start command held backup mode
// until the snapshot was taken, so it normally finds DONE (or COMPLETE)
// and returns at once. Should Domino run it while the snapshot is still
// pending (DOMINO-DONE: a start command that did not hold), it holds
// backup mode here until DONE, as HCL's Veeam script does.
func (s Side) Snapshot(ctx context.Context, a Args, limit time.Duration) int {
	began := time.Now()
	defer os.Remove(tagPath(s.Data, a.BackupStartDT))
	st, err := ReadStatus(s.Data)
	switch {
	case err == nil && st.Backup == a.BackupStartDT && (st.State == Done || st.State == Complete):
		s.say("%s - snapshot of backup %s taken already", OK, a.BackupStartDT)
		return 0
	case err != nil || st.State != DominoDone || st.Backup != a.BackupStartDT:
		return s.fail("no snapshot pending for backup %s (status %q)", a.BackupStartDT, st.State)
	}
	if err := s.holdUntilDone(ctx, st.Token, began, limit); err != nil {
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
