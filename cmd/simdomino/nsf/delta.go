package nsf

// Backup mode, as Domino's backup API has it (NSFBackupStart/Stop): a
// database in backup mode is NOT frozen. Its writers keep appending; the
// backup records where the database stood when backup mode began (the
// base) and, when backup mode ends, writes everything appended since into
// a .DELTA file. A copy of the file taken at any instant in between is
// restorable only together with that delta: restore = the copy cut back to
// the base (checked by hash) + the delta's changes, which is the database
// as it stood when backup mode ended.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DeltaExt is the ending Domino gives delta files: the database's own file
// name with .DELTA appended (names.nsf.DELTA).
const DeltaExt = ".DELTA"

const deltaMagic = "SIMDELTA01"

// Base is where a database stood when backup mode began.
type Base struct {
	Path string // the database file
	Size int64  // bytes up to the last complete record
	Hash string // sha256 of the body (after the header) up to Size
}

// bodyStart is where records begin: after the header line.
const bodyStart = int64(headerLen + 1)

// BeginBackup puts the database at path into backup mode: it records the
// base. Writers are not stopped.
func BeginBackup(path string) (Base, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Base{}, err
	}
	if len(b) < int(bodyStart) || string(b[:len(magic)]) != magic {
		return Base{}, fmt.Errorf("%s: %w", path, ErrNotDatabase)
	}
	size := lastRecordEnd(b)
	return Base{Path: path, Size: size, Hash: hashBody(b[:size])}, nil
}

// lastRecordEnd is the offset after the last complete record (a writer may
// be half-way through the next one).
func lastRecordEnd(b []byte) int64 {
	i := bytes.LastIndexByte(b, '\n')
	if i < int(bodyStart)-1 {
		return bodyStart
	}
	return int64(i + 1)
}

func hashBody(b []byte) string {
	sum := sha256.Sum256(b[bodyStart:])
	return hex.EncodeToString(sum[:])
}

// Delta is the change information of one database for one backup.
type Delta struct {
	Backup   string // the backup's identity (BackupStartDT)
	Database string // the database's path relative to the data directory
	Base     Base
	Changes  []byte // complete records appended while in backup mode
	// Final is the sha256 of the body when backup mode ended: what the
	// database restored with this delta holds (not written to the file).
	Final string
}

// EndBackup takes the database out of backup mode and returns what was
// written to it since base.
func EndBackup(base Base, backup, rel string) (Delta, error) {
	b, err := os.ReadFile(base.Path)
	if err != nil {
		return Delta{}, err
	}
	end := lastRecordEnd(b)
	if end < base.Size || hashBody(b[:base.Size]) != base.Hash {
		return Delta{}, fmt.Errorf("%s changed below its backup base (rewritten while in backup mode)", base.Path)
	}
	return Delta{Backup: backup, Database: filepath.ToSlash(rel), Base: base, Changes: append([]byte(nil), b[base.Size:end]...),
		Final: hashBody(b[:end])}, nil
}

// Write stores d as a .DELTA file at path.
func (d Delta) Write(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nbackup %s\ndatabase %s\nbase-size %d\nbase-sha256 %s\nchanges %d\n",
		deltaMagic, d.Backup, d.Database, d.Base.Size, d.Base.Hash, len(d.Changes))
	b.Write(d.Changes)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ErrNotDelta marks a file that is not a delta.
var ErrNotDelta = errors.New("not a delta file")

// ReadDelta reads a .DELTA file.
func ReadDelta(path string) (Delta, error) {
	f, err := os.Open(path)
	if err != nil {
		return Delta{}, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	fields := map[string]string{}
	first, _ := r.ReadString('\n')
	if strings.TrimSpace(first) != deltaMagic {
		return Delta{}, fmt.Errorf("%s: %w", path, ErrNotDelta)
	}
	for _, key := range []string{"backup", "database", "base-size", "base-sha256", "changes"} {
		line, err := r.ReadString('\n')
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if err != nil || !ok || k != key {
			return Delta{}, fmt.Errorf("%s: bad %s line: %w", path, key, ErrNotDelta)
		}
		fields[k] = v
	}
	size, err1 := strconv.ParseInt(fields["base-size"], 10, 64)
	n, err2 := strconv.Atoi(fields["changes"])
	if err1 != nil || err2 != nil || n < 0 {
		return Delta{}, fmt.Errorf("%s: %w", path, ErrNotDelta)
	}
	changes := make([]byte, n)
	if _, err := io.ReadFull(r, changes); err != nil {
		return Delta{}, fmt.Errorf("%s: truncated: %w", path, ErrNotDelta)
	}
	return Delta{Backup: fields["backup"], Database: fields["database"],
		Base: Base{Size: size, Hash: fields["base-sha256"]}, Changes: changes}, nil
}

// Apply restores a copy taken in backup mode: cut back to the base, which
// must be the base this delta was made from, plus the delta's changes, and
// marked closed cleanly (Domino's restore recovers the database). What the
// copy holds beyond the base must be a beginning of the changes: a copy
// taken outside this backup's window does not fit.
func (d Delta) Apply(copyPath string) error {
	b, err := os.ReadFile(copyPath)
	if err != nil {
		return err
	}
	if int64(len(b)) < d.Base.Size || len(b) < int(bodyStart) || string(b[:len(magic)]) != magic {
		return fmt.Errorf("%s: shorter than the base of backup %s: not a copy from that backup", d.Database, d.Backup)
	}
	if hashBody(b[:d.Base.Size]) != d.Base.Hash {
		return fmt.Errorf("%s: does not match the base of backup %s: the delta belongs to another backup", d.Database, d.Backup)
	}
	if tail := b[d.Base.Size:]; !bytes.HasPrefix(d.Changes, tail) {
		return fmt.Errorf("%s: the copy holds writes that backup %s's delta does not: copied outside its backup window", d.Database, d.Backup)
	}
	out := append(append([]byte(nil), b[:d.Base.Size]...), d.Changes...)
	copy(out[len(magic):], stateOK)
	return os.WriteFile(copyPath, out, 0o644)
}

// BodyHash is the sha256 of a database's body up to its last complete
// record: two databases with the same BodyHash hold the same records.
func BodyHash(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if len(b) < int(bodyStart) || string(b[:len(magic)]) != magic {
		return "", fmt.Errorf("%s: %w", path, ErrNotDatabase)
	}
	return hashBody(b[:lastRecordEnd(b)]), nil
}

// TagPrefix and TagSuffix name the tag file the snapshot start command
// writes into the data directory (HCL's Veeam integration:
// dominobackup_<BackupStartDT>.tag): it identifies the backup a snapshot
// belongs to.
const (
	TagPrefix = "dominobackup_"
	TagSuffix = ".tag"
)

// BackupTags lists the backups whose tag files are in dir.
func BackupTags(dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, TagPrefix+"*"+TagSuffix))
	var out []string
	for _, p := range m {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), TagPrefix), TagSuffix))
	}
	return out
}

// Restored is the verdict on a copy restored with deltas.
type Restored struct {
	Backup  string
	Applied int
	Report  Report
}

// VerifyWithDeltas restores a copy (in place: pass a scratch copy) taken
// while backup mode was on, with the deltas of that backup, and verifies
// it. Every database needs its delta, every delta its database, and all
// must belong to the backup the copy's tag file names.
func VerifyWithDeltas(copyDir, deltaDir string) (Restored, error) {
	tags := BackupTags(copyDir)
	if len(tags) != 1 {
		return Restored{}, fmt.Errorf("%s holds %d backup tag files (%s*%s), want exactly 1: not a copy taken in backup mode", copyDir, len(tags), TagPrefix, TagSuffix)
	}
	out := Restored{Backup: tags[0]}
	deltas := map[string]Delta{}
	err := filepath.WalkDir(deltaDir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(e.Name(), DeltaExt) {
			return err
		}
		d, err := ReadDelta(path)
		if err != nil {
			return err
		}
		if d.Backup != out.Backup {
			return fmt.Errorf("%s belongs to backup %s, the copy to backup %s", path, d.Backup, out.Backup)
		}
		deltas[d.Database] = d
		return nil
	})
	if err != nil {
		return out, err
	}
	err = filepath.WalkDir(copyDir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !IsDatabase(e.Name()) {
			return err
		}
		rel, _ := filepath.Rel(copyDir, path)
		d, ok := deltas[filepath.ToSlash(rel)]
		if !ok {
			return fmt.Errorf("%s: no delta in %s for backup %s", rel, deltaDir, out.Backup)
		}
		delete(deltas, d.Database)
		if err := d.Apply(path); err != nil {
			return err
		}
		out.Applied++
		return nil
	})
	if err != nil {
		return out, err
	}
	for name := range deltas {
		return out, fmt.Errorf("delta for %s has no database in the copy", name)
	}
	out.Report, err = Verify(copyDir)
	return out, err
}

// CreateWith writes a new, cleanly closed database at path holding body
// as its records.
func CreateWith(path string, body []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte(magic+stateOK+"\n"), body...), 0o644)
}
