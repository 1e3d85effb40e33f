// Package state keeps the freeze state of each application instance on disk so that it
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
	"strings"
	"time"

	"github.com/quiesce/quiesce/core/config"
)

// Version of the record format: 2 since every record belongs to an
// application instance (version 1 was keyed by a target name such as
// "domino"; see Legacy).
const Version = 2

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

// Holder is one caller that froze the instance and has not thawed yet.
type Holder struct {
	Caller string    `json:"caller"`
	Job    string    `json:"job,omitempty"`
	Since  time.Time `json:"since"`
	PID    int       `json:"pid"`
}

// Key identifies a holder: one per caller and job.
func (h Holder) Key() string { return h.Caller + "\x00" + h.Job }

// Phases of a freeze, recorded before each step so that an interrupted
// run can be finished or undone; what a step does is the freeze method's.
const (
	PhaseEntering    = "entering"     // bringing the instance to a consistent state (stopping it, entering backup mode)
	PhaseHeld        = "held"         // observed consistent: the snapshot may be taken
	PhaseLeaving     = "leaving"      // bringing it back (starting it, ending backup mode)
	PhaseLeaveFailed = "leave-failed" // bringing it back failed; still owed
)

// BootDeadline is a deadline on the clock that counts since boot
// (CLOCK_BOOTTIME): a step of the wall clock moves it neither way. It
// holds only within the boot it was taken in.
type BootDeadline struct {
	Boot string        `json:"boot"` // the boot's identity
	At   time.Duration `json:"at"`   // time since boot
}

// Record is the freeze state of one application instance.
type Record struct {
	Version  int      `json:"version"`
	Instance string   `json:"instance"`         // the instance's key (the record's file name)
	Name     string   `json:"name,omitempty"`   // its readable name, for status and logs
	Method   string   `json:"method,omitempty"` // the freeze method in force
	Holders  []Holder `json:"holders"`
	// Owed: the method changed the instance (stopped it, put it into
	// backup mode) and owes bringing it back.
	Owed     bool          `json:"owed"`
	Phase    string        `json:"phase,omitempty"`
	Since    time.Time     `json:"since,omitempty"`   // when the freeze began
	HeldAt   time.Time     `json:"held_at,omitempty"` // when the instance was observed consistent
	Deadline time.Time     `json:"deadline,omitempty"`
	BootAt   *BootDeadline `json:"boot_deadline,omitempty"` // Deadline on the boot clock
	Updated  time.Time     `json:"updated"`
	Note     string        `json:"note,omitempty"`
	// Disowned says what an administrator did by hand during the freeze
	// ("stopped by hand"): the freeze no longer owes bringing the
	// instance back, and its thaw says why it leaves it as it is.
	Disowned string `json:"disowned,omitempty"`
	// Expired are holders whose freeze ran past its deadline and was ended
	// without them; their late thaw is told so.
	Expired   []Holder  `json:"expired,omitempty"`
	ExpiredAt time.Time `json:"expired_at,omitempty"`
	// ExpiredEnd says what ending the expired freeze did ("domino ...
	// started by watchdog"); ExpiredChanged whether it changed the
	// instance (started it, ended its backup mode): a late thaw then fails,
	// its snapshot may be suspect.
	ExpiredEnd     string `json:"expired_end,omitempty"`
	ExpiredChanged bool   `json:"expired_changed,omitempty"`
	// Data is the method's own, in its own format.
	Data json.RawMessage `json:"data,omitempty"`
}

// Frozen reports whether any caller holds the instance frozen.
func (r Record) Frozen() bool { return len(r.Holders) > 0 }

// Held reports whether a freeze is in place: holders, or a method that
// owes bringing the instance back.
func (r Record) Held() bool { return r.Frozen() || r.Owed }

// Empty reports whether no freeze is in place or pending (expired holders
// may still be remembered).
func (r Record) Empty() bool { return !r.Held() && r.Phase == "" }

// Interrupted reports whether entering or leaving was cut short: the
// record is read with the lock held, so whoever began it is gone.
func (r Record) Interrupted() bool {
	return r.Phase == PhaseEntering || r.Phase == PhaseLeaving || r.Phase == PhaseLeaveFailed
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

func (s *Store) path(key string) string { return filepath.Join(s.dir, key+".json") }

// Load reads the record of the instance key; a missing record is an empty
// one.
func (s *Store) Load(key string) (Record, error) {
	path := s.path(key)
	b, ok, err := s.read(path, 1<<20)
	if err != nil || !ok {
		return Record{Version: Version, Instance: key}, err
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{}, &CorruptError{Path: path, Err: err}
	}
	if r.Version != Version || r.Instance != key {
		return Record{}, &CorruptError{Path: path, Err: fmt.Errorf("version %d instance %q, want version %d instance %q", r.Version, r.Instance, Version, key)}
	}
	return r, nil
}

// read reads a file of the store, at most limit bytes, never through a
// link; ok is false when there is none.
func (s *Store) read(path string, limit int64) (b []byte, ok bool, err error) {
	f, err := openNoFollow(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	b, err = io.ReadAll(io.LimitReader(f, limit))
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	return b, true, nil
}

// Save writes r atomically.
func (s *Store) Save(r Record) error {
	r.Version = Version
	return s.writeJSON(s.path(r.Instance), "."+r.Instance+".*.tmp", r)
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

// Clear removes the record of the instance key.
func (s *Store) Clear(key string) error {
	err := os.Remove(s.path(key))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return syncDir(s.dir)
}

// Records reads every instance's record in the store (the documents
// beside them, whose names hold a dot, are left out). A record that
// cannot be read is left out too: it is its own instance's business.
func (s *Store) Records() ([]Record, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var out []Record
	for _, e := range entries {
		key, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || key == "" || strings.Contains(key, ".") || !e.Type().IsRegular() {
			continue
		}
		if r, err := s.Load(key); err == nil && !r.Empty() {
			out = append(out, r)
		}
	}
	return out, nil
}
