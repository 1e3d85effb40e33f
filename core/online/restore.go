package online

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/quiesce/quiesce/core/manifest"
)

// Restore: Domino's restore task (dominobackup.nsf, Restore tab) calls a
// command with the 9 arguments, the 9th the file to restore to, for a
// database and again for its .DELTA. For a backup taken in snapshot mode
// the database goes to the Restore Snapshot Command and the .DELTA to the
// Restore Db Command (HCL's interface.md: "For *.DELTA files always the
// normal restore command is used"); quiesce domino-backup restore-db is
// made to be both, and tells a delta by its .DELTA ending. Domino then
// applies the delta, recovers the database and removes the .DELTA; the
// Restore Post Command (restore-post) runs at the end of the request.

// DeltaExt is the ending of a delta file (the database's name with it
// appended).
const DeltaExt = ".DELTA"

// DADExt is the ending of a database copied for Domino's restore.
const DADExt = ".DAD"

// SearchDepth is how deep below a mount root restore-db looks for the
// tag file: a restore point mounted at ROOT/NAME holds the data directory
// a few levels below (ROOT/NAME/local/notesdata, Veeam's
// /tmp/Veeam.Mount.FS.*/VOLUME/local/notesdata).
const SearchDepth = 6

// RestoreOptions are the restore commands' settings: their options in
// dominobackup.nsf (these commands, like the backup ones, read no quiesce
// configuration).
type RestoreOptions struct {
	// MountRoots are where restore points are mounted (by the
	// administrator, by the backup product's file-level restore, or by
	// MountCommand); the tag file is looked for below them.
	MountRoots []string
	// MountCommand, if set, is run (as the Domino user, no shell: words
	// separated by blanks, BackupStartDT appended) when no mounted
	// restore point holds the tag; restore-db then waits up to MountWait
	// for the tag to appear.
	MountCommand []string
	MountWait    time.Duration
	// UnmountCommand is what restore-post runs (as the Domino user, no
	// shell).
	UnmountCommand []string
	// CopyTo are where "post --copy-to" kept the deltas.
	CopyTo []string
}

// processed matches the word every OK string contains, in any case.
var processed = regexp.MustCompile(`(?i)processed`)

// clean keeps the OK string's word out of a failure line: HCL's Linux
// Restore OK String is just "PROCESSED", and Domino judges a command by
// finding it anywhere in the output.
func clean(s string) string {
	return processed.ReplaceAllStringFunc(s, func(m string) string { return m[:7] + "-" + m[7:] })
}

// failRestore prints one failure line that cannot pass for success.
func (s Side) failRestore(format string, a ...any) int {
	s.say("%s", clean(fmt.Sprintf(Err+" - "+format, a...)))
	return 1
}

// IsDelta reports whether a restore call is for a .DELTA file.
func (a Args) IsDelta() bool {
	return hasSuffixFold(a.FileName, DeltaExt) || hasSuffixFold(a.RestoreFileName, DeltaExt)
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// RestoreDb restores one file of a restore request. A database is copied
// from the restore point that holds this backup's tag file (see
// findRestorePoint) to RestoreFileName, with .DAD appended when Domino
// did not (HCL's scripts append it; Domino's formula documentation says
// RestoreFileName includes it); a .DELTA from where the backup kept it
// (see findDelta) to RestoreFileName exactly. It prints Return:
// PROCESSED with the exact target only once this run's copy is complete
// and synced; every failure is one line without that word.
func (s Side) RestoreDb(ctx context.Context, a Args, o RestoreOptions) int {
	if a.FileName == "" || !filepath.IsLocal(filepath.FromSlash(a.FileName)) {
		return s.failRestore("FileName %q is not a path inside the data directory", a.FileName)
	}
	if !filepath.IsAbs(a.RestoreFileName) {
		return s.failRestore("RestoreFileName %q is not an absolute path", a.RestoreFileName)
	}
	var src, target string
	if a.IsDelta() {
		var err error
		if src, err = findDelta(a, o); err != nil {
			return s.failRestore("%v", err)
		}
		target = a.RestoreFileName
	} else {
		rp, err := s.findRestorePoint(ctx, a.BackupStartDT, o)
		if err != nil {
			return s.failRestore("%v", err)
		}
		if src, err = inside(rp, filepath.FromSlash(a.FileName)); err != nil {
			return s.failRestore("%v", err)
		}
		target = a.RestoreFileName
		if !hasSuffixFold(target, DADExt) {
			target += DADExt
		}
	}
	if err := s.copyRestored(src, target); err != nil {
		return s.failRestore("cannot copy %s to %s: %v", src, target, err)
	}
	s.say("quiesce: %s of backup %s copied from %s", a.FileName, a.BackupStartDT, src)
	s.say("%s (%s)", OK, target)
	return 0
}

// RestorePost ends a restore request: the unmount command, if any.
func (s Side) RestorePost(ctx context.Context, o RestoreOptions) int {
	if len(o.UnmountCommand) > 0 {
		if err := run(ctx, o.UnmountCommand, time.Minute); err != nil {
			return s.failRestore("unmount command: %v", err)
		}
		s.say("quiesce: restore points unmounted (%s)", strings.Join(o.UnmountCommand, " "))
	}
	s.say("%s - restore request finished", OK)
	return 0
}

// inside resolves rel in the restore point's data directory rp and
// refuses anything that leaves it (a link to the live system) or is not
// a regular file.
func inside(rp, rel string) (string, error) {
	path := filepath.Join(rp, rel)
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Errorf("%s is not in the restore point: %v", rel, errors.Unwrap(err))
	}
	base, err := filepath.EvalSymlinks(rp)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(real, base+string(filepath.Separator)) {
		return "", fmt.Errorf("%s in the restore point %s leads out of it (to %s): refused", rel, rp, real)
	}
	if st, err := os.Stat(real); err != nil || !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s in the restore point %s is not a regular file", rel, rp)
	}
	return real, nil
}

// restorePoint is a data directory found in a mounted restore point.
type restorePoint struct {
	dir  string
	own  string // the backup it is the snapshot of: its manifest's, else its newest tag's
	tags []Tag
}

// findRestorePoint finds the data directory of backup id's restore point
// below the mount roots: the one whose own backup is id. A restore
// point's own backup is what its manifest says, else its newest tag's (a
// tag older than the snapshot is a stale one: a tag is never written
// after its backup's start). Not found, it runs the mount command and
// waits for the tag. It refuses, with one reason, a restore point whose
// tag file does not say id, and a tag found in no or in several restore
// points of id.
func (s Side) findRestorePoint(ctx context.Context, id string, o RestoreOptions) (string, error) {
	if len(o.MountRoots) == 0 {
		return "", errors.New("no --mount-root given: say where restore points are mounted")
	}
	found := searchRestorePoints(o.MountRoots, s.Data)
	if len(matching(found, id)) == 0 && len(o.MountCommand) > 0 {
		if err := run(ctx, append(append([]string(nil), o.MountCommand...), id), o.MountWait); err != nil {
			return "", fmt.Errorf("mount command: %v", err)
		}
		deadline := time.Now().Add(o.MountWait)
		for found = searchRestorePoints(o.MountRoots, s.Data); len(matching(found, id)) == 0 && time.Now().Before(deadline); found = searchRestorePoints(o.MountRoots, s.Data) {
			// A mount another system performs sends no event here:
			// look again, briefly.
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	right := matching(found, id)
	switch {
	case len(right) == 1:
		return checkRestorePoint(right[0], id)
	case len(right) > 1:
		var dirs []string
		for _, rp := range right {
			dirs = append(dirs, rp.dir)
		}
		return "", fmt.Errorf("backup %s has %d restore points mounted (%s): mount only one", id, len(right), strings.Join(dirs, ", "))
	}
	var wrong []string
	for _, rp := range found {
		wrong = append(wrong, fmt.Sprintf("%s is backup %s's", rp.dir, rp.own))
	}
	if len(wrong) == 0 {
		return "", fmt.Errorf("no restore point under %s holds %s: mount backup %s's restore point there", strings.Join(o.MountRoots, ", "), TagName(id), id)
	}
	return "", fmt.Errorf("wrong restore point: %s; backup %s's restore point is not mounted under %s", strings.Join(wrong, "; "), id, strings.Join(o.MountRoots, ", "))
}

// matching keeps the restore points of backup id.
func matching(rps []restorePoint, id string) []restorePoint {
	var out []restorePoint
	for _, rp := range rps {
		if rp.own == id {
			out = append(out, rp)
		}
	}
	return out
}

// checkRestorePoint refuses the restore point of id that does not hold
// id's tag file, or whose tag file does not say id.
func checkRestorePoint(rp restorePoint, id string) (string, error) {
	for _, t := range rp.tags {
		switch {
		case t.ID != id:
		case t.Content != id:
			return "", fmt.Errorf("wrong restore point: %s in %s says %q, not %s", TagName(id), rp.dir, t.Content, id)
		default:
			return rp.dir, nil
		}
	}
	return "", fmt.Errorf("wrong restore point: %s is backup %s's by its manifest but does not hold %s", rp.dir, id, TagName(id))
}

// searchRestorePoints lists the data directories below roots (at most
// SearchDepth levels, links not followed) that hold a tag file, each with
// its own backup; never the live data directory live.
func searchRestorePoints(roots []string, live string) []restorePoint {
	var out []restorePoint
	seen := map[string]bool{}
	if real, err := filepath.EvalSymlinks(live); err == nil {
		seen[real] = true
	}
	seen[filepath.Clean(live)] = true
	for _, root := range roots {
		root = filepath.Clean(root)
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			if strings.Count(strings.TrimPrefix(path, root), string(filepath.Separator)) > SearchDepth {
				return filepath.SkipDir
			}
			tags, _ := Tags(path)
			if len(tags) == 0 || seen[path] {
				return nil
			}
			seen[path] = true
			rp := restorePoint{dir: path, tags: tags, own: tags[len(tags)-1].ID}
			if m, err := manifest.Read(path); err == nil && m.Backup != "" {
				rp.own = m.Backup
			}
			out = append(out, rp)
			return filepath.SkipDir // a data directory holds no other restore point
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].dir < out[j].dir })
	return out
}

// findDelta finds the .DELTA of a restore call: where Domino wrote it
// (BackupTargetDir/BackupNode/<mode>/BackupStartDT, the live server's),
// where post --copy-to kept it, or in a mounted restore point (a later
// snapshot that holds the delta directory). Any BackupMode directory
// counts: which mode Domino passes for a delta is not documented.
func findDelta(a Args, o RestoreOptions) (string, error) {
	rel := filepath.FromSlash(a.FileName)
	if !hasSuffixFold(rel, DeltaExt) {
		rel += DeltaExt
	}
	var looked []string
	for _, base := range append([]string{a.BackupTargetDir}, o.CopyTo...) {
		if base == "" {
			continue
		}
		looked = append(looked, base)
		if p := deltaIn(filepath.Join(base, a.BackupNode), a.BackupStartDT, rel); p != "" {
			return p, nil
		}
	}
	for _, root := range o.MountRoots {
		looked = append(looked, root+" (restore points)")
		if p := deltaBelow(root, a.BackupNode, a.BackupStartDT, rel); p != "" {
			return p, nil
		}
	}
	return "", fmt.Errorf("no %s of backup %s in %s: restored without it the database would be inconsistent (keep the deltas: post --keep, --copy-to)", rel, a.BackupStartDT, strings.Join(looked, ", "))
}

// deltaIn is node/<any mode>/id/rel when it is a regular file.
func deltaIn(node, id, rel string) string {
	dirs, _ := filepath.Glob(filepath.Join(node, "*", id))
	for _, d := range dirs {
		p := filepath.Join(d, rel)
		if st, err := os.Lstat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// deltaBelow looks for node/<mode>/id/rel below root (at most
// SearchDepth levels, links not followed).
func deltaBelow(root, node, id, rel string) string {
	root = filepath.Clean(root)
	var found string
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if strings.Count(strings.TrimPrefix(path, root), string(filepath.Separator)) > SearchDepth {
			return filepath.SkipDir
		}
		if d.Name() == node {
			if found = deltaIn(path, id, rel); found != "" {
				return filepath.SkipAll
			}
			return filepath.SkipDir
		}
		return nil
	})
	return found
}

// copyRestored copies src to target: a new file beside target, synced,
// renamed into place, the directory synced. A missing target directory
// is created only inside the data directory.
func (s Side) copyRestored(src, target string) error {
	dir := filepath.Dir(target)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		rel, rerr := filepath.Rel(s.Data, dir)
		if rerr != nil || !filepath.IsLocal(rel) {
			return fmt.Errorf("its directory does not exist and is outside the data directory %s", s.Data)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return err
	}
	return syncDir(dir)
}

// run runs argv (no shell) within limit; its error carries the first line
// of its output.
func run(ctx context.Context, argv []string, limit time.Duration) error {
	if limit <= 0 {
		limit = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("%s did not end within %s", argv[0], limit)
	}
	if err != nil {
		first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		return fmt.Errorf("%s: %v: %s", argv[0], err, first)
	}
	return nil
}
