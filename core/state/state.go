// Package state keeps the freeze state of each target on disk so that it
// survives a crash of quiesce or a reboot of the guest: written atomically
// (temporary file, fsync, rename, fsync of the directory), readable only
// by its owner, never through a symlink.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/quiesce/quiesce/core/config"
)

// Version of the record format.
const Version = 1

// ErrCorrupt marks a state file that cannot be read back.
var ErrCorrupt = errors.New("state file is corrupt")

// ErrUnsafe marks a state directory or file that others could tamper with.
var ErrUnsafe = errors.New("unsafe state location")

// CorruptError names the corrupt file and the way out.
type CorruptError struct {
	Path string
	Err  error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("%s: %v (run 'quiesce recover' to inspect and reset it)", e.Path, e.Err)
}
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// Holder is one caller that froze the target and has not thawed yet.
type Holder struct {
	Caller string    `json:"caller"`
	Job    string    `json:"job,omitempty"`
	Since  time.Time `json:"since"`
	PID    int       `json:"pid"`
}

// Key identifies a holder: one per caller and job.
func (h Holder) Key() string { return h.Caller + "\x00" + h.Job }

// Phases of a freeze, recorded before each step so an interrupted run can
// be finished or undone.
const (
	PhaseStopping    = "stopping"
	PhaseStopped     = "stopped"
	PhaseStarting    = "starting"
	PhaseStartFailed = "start-failed"
)

// Record is the freeze state of one target.
type Record struct {
	Version         int       `json:"version"`
	Target          string    `json:"target"`
	Holders         []Holder  `json:"holders"`
	WasRunning      bool      `json:"was_running"`       // the application ran when the first freeze came
	StoppedByFreeze bool      `json:"stopped_by_freeze"` // quiesce stopped it and owes a start
	Phase           string    `json:"phase,omitempty"`
	StoppedAt       time.Time `json:"stopped_at,omitempty"`
	FrozenAt        time.Time `json:"frozen_at,omitempty"` // when the stop was complete: the freeze holds from then
	Deadline        time.Time `json:"deadline,omitempty"`  // the application is started by then at the latest
	Updated         time.Time `json:"updated"`
	Note            string    `json:"note,omitempty"`
	// Expired are holders whose freeze ran past its deadline and was ended
	// without them; their late thaw succeeds with a warning.
	Expired   []Holder  `json:"expired,omitempty"`
	ExpiredAt time.Time `json:"expired_at,omitempty"`
	// Backup is set for an online freeze (Domino Backup's snapshot mode).
	Backup *Backup `json:"backup,omitempty"`
}

// Frozen reports whether any caller holds the target frozen.
func (r Record) Frozen() bool { return len(r.Holders) > 0 }

// StartOwed reports whether quiesce stopped the application and has not
// started it again.
func (r Record) StartOwed() bool { return r.StoppedByFreeze }

// Empty reports whether no freeze is in place or pending (expired holders
// may still be remembered).
func (r Record) Empty() bool { return !r.Frozen() && !r.StartOwed() && r.Phase == "" }

// Interrupted reports whether a stop or start was cut short: the record is
// read with the lock held, so whoever began it is gone.
func (r Record) Interrupted() bool {
	return r.Phase == PhaseStopping || r.Phase == PhaseStarting || r.Phase == PhaseStartFailed
}

// Store is a directory of state records.
type Store struct{ dir string }

// Open prepares dir (mode 0700) and refuses a directory that is a symlink
// or writable by others.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory %s: %w", dir, err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return nil, err
	}
	if st.Mode()&fs.ModeSymlink != 0 || !st.IsDir() {
		return nil, fmt.Errorf("state directory %s is not a plain directory: %w", dir, ErrUnsafe)
	}
	if err := checkPerm(dir, st); err != nil {
		return nil, err
	}
	if err := config.CheckDir(dir); err != nil {
		return nil, fmt.Errorf("state directory %s: %w", dir, err)
	}
	return &Store{dir: dir}, nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path(target string) string { return filepath.Join(s.dir, target+".json") }

// Load reads the record of target; a missing record is an empty one.
func (s *Store) Load(target string) (Record, error) {
	path := s.path(target)
	f, err := openNoFollow(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return Record{Version: Version, Target: target}, nil
	}
	if err != nil {
		return Record{}, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return Record{}, fmt.Errorf("%s: %w", path, err)
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{}, &CorruptError{Path: path, Err: err}
	}
	if r.Version != Version || r.Target != target {
		return Record{}, &CorruptError{Path: path, Err: fmt.Errorf("version %d target %q, want version %d target %q", r.Version, r.Target, Version, target)}
	}
	return r, nil
}

// Save writes r atomically.
func (s *Store) Save(r Record) error {
	r.Version = Version
	return s.writeJSON(s.path(r.Target), "."+r.Target+".*.tmp", r)
}

// writeJSON writes v as indented JSON to path atomically: a synced
// temporary file in the state directory, renamed into place, and the
// directory synced.
func (s *Store) writeJSON(path, tmpPattern string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.dir, tmpPattern)
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return err
	}
	return syncDir(s.dir)
}

// Clear removes the record of target.
func (s *Store) Clear(target string) error {
	err := os.Remove(s.path(target))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return syncDir(s.dir)
}
