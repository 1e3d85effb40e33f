// Package online freezes a running Domino server without stopping it,
// through Domino Backup's snapshot mode ("load backup -s"): every database
// goes into backup mode (Domino keeps writing and records the changes),
// the snapshot is taken, backup mode ends and the changes go to .DELTA
// files that a restore applies.
//
// Both sides of the protocol are quiesce. The root side (a caller's
// freeze and thaw) asks Domino for a backup and waits; the Domino side
// (the commands Domino Backup runs as the Domino user, "quiesce
// domino-backup snapshot-start|snapshot|post") answers. They meet in the
// status file HCL's own integration uses, $DATA/dominobackup_snapshot.lck,
// whose first line is the state (REQUESTED, DOMINO-DONE, DONE, as in HCL's
// scripts, plus CANCELLED and COMPLETE); a token quiesce draws for each
// backup ties the file to it, so a stale or forged file never counts.
// Every wait is on file events (inotify) or process exits, never a poll.
package online

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// StatusFile is the status file's name in the data directory (HCL's).
const StatusFile = "dominobackup_snapshot.lck"

// States: the first line of the status file.
const (
	Requested  = "REQUESTED"   // quiesce asked Domino Backup for a snapshot backup
	DominoDone = "DOMINO-DONE" // every database is in backup mode: snapshot now
	Done       = "DONE"        // the snapshot is taken: end backup mode
	Cancelled  = "CANCELLED"   // no snapshot (failed freeze, expiry): Domino Backup must fail this backup
	Complete   = "COMPLETE"    // backup mode ended, deltas written (the post command ran)
)

// maxStatusSize bounds what is read of the status file.
const maxStatusSize = 16 << 10

// Status is the content of the status file.
type Status struct {
	State   string
	Token   string
	Backup  string // BackupStartDT
	Deltas  string // where the deltas of this backup are
	Count   int    // how many .DELTA files the post command found there
	Note    string
	Updated time.Time
}

// Ours reports whether the file belongs to the backup with this token.
func (s Status) Ours(token string) bool { return token != "" && s.Token == token }

func (s Status) encode() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n# quiesce: Domino Backup snapshot status; the first line is the state (HCL's protocol)\n", s.State)
	kv := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s=%s\n", k, oneLine(v))
		}
	}
	kv("token", s.Token)
	kv("backup", s.Backup)
	kv("deltas", s.Deltas)
	if s.Count > 0 {
		kv("delta_files", strconv.Itoa(s.Count))
	}
	kv("note", s.Note)
	kv("updated", time.Now().UTC().Format(time.RFC3339Nano))
	return b.Bytes()
}

func oneLine(v string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(v) }

func decode(b []byte) Status {
	var s Status
	sc := bufio.NewScanner(bytes.NewReader(b))
	if sc.Scan() {
		s.State = strings.TrimSpace(sc.Text())
	}
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "token":
			s.Token = v
		case "backup":
			s.Backup = v
		case "deltas":
			s.Deltas = v
		case "delta_files":
			s.Count, _ = strconv.Atoi(v)
		case "note":
			s.Note = v
		case "updated":
			s.Updated, _ = time.Parse(time.RFC3339Nano, v)
		}
	}
	return s
}

// ErrNoStatus: there is no status file.
var ErrNoStatus = errors.New("no status file")

// ErrUnsafeStatus: the status file is not a plain file of bounded size.
var ErrUnsafeStatus = errors.New("status file is not a plain file")

// ReadStatus reads the status file of a data directory: never through a
// symlink, only a regular file, at most 16 KiB.
func ReadStatus(data string) (Status, error) {
	path := filepath.Join(data, StatusFile)
	f, err := openNoFollow(path)
	if errors.Is(err, os.ErrNotExist) {
		return Status{}, ErrNoStatus
	}
	if err != nil {
		return Status{}, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Status{}, err
	}
	if !st.Mode().IsRegular() || st.Size() > maxStatusSize {
		return Status{}, fmt.Errorf("%s: %w", path, ErrUnsafeStatus)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxStatusSize))
	if err != nil {
		return Status{}, err
	}
	return decode(b), nil
}

// WriteStatus replaces the status file atomically: a new file beside it,
// renamed over it, so that a symlink planted there is replaced, never
// followed, and a reader sees the old file or the new one. Root writes it
// as the Domino user (runas.Files), who must be able to replace it.
func WriteStatus(data string, s Status) error {
	tmp, err := os.CreateTemp(data, "."+StatusFile+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(s.encode()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	// No fsync: the status file is a meeting point of two live processes,
	// not a record; what must survive a crash is in quiesce's state
	// directory, and after a reboot the file is void.
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(data, StatusFile))
}

// RemoveStatus removes the status file if it still belongs to token.
func RemoveStatus(data, token string) {
	if st, err := ReadStatus(data); err == nil && st.Ours(token) {
		_ = os.Remove(filepath.Join(data, StatusFile))
	}
}

// NewToken draws a backup's token.
func NewToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
