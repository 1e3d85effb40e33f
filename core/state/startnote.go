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
)

// Outcomes of a start that a thaw handed to the watchdog.
const (
	StartPending    = "pending"     // launched by a thaw; the watchdog proves readiness
	StartServing    = "serving"     // the launched start serves
	StartRestarted  = "restarted"   // it went away; the watchdog started the application again and it serves
	StartNotServing = "not-serving" // it runs but never served: an administrator must look
	StartFailed     = "failed"      // starting failed; the watchdog retries
	StartBlocked    = "blocked"     // starts are blocked by the administrator
)

// StartNote is what the last start handed from a thaw to the watchdog came
// to: written by the thaw (pending) and by the watchdog (the outcome), read
// by status. It is kept apart from the freeze record, which is gone once
// the application serves.
type StartNote struct {
	Instance string    `json:"instance"`
	By       string    `json:"by"` // "thaw by qemu"
	Launched time.Time `json:"launched"`
	Outcome  string    `json:"outcome"`
	Message  string    `json:"message"`
	Updated  time.Time `json:"updated"`
}

// Open reports whether the watchdog has not settled the start yet.
func (n StartNote) Open() bool { return n.Outcome == StartPending || n.Outcome == StartFailed }

func (s *Store) notePath(key string) string { return filepath.Join(s.dir, key+".start.json") }

// SaveStartNote writes n atomically.
func (s *Store) SaveStartNote(n StartNote) error {
	return s.writeJSON(s.notePath(n.Instance), "."+n.Instance+".start.*.tmp", n)
}

// LoadStartNote reads the note of the instance key; ok is false when there is none.
func (s *Store) LoadStartNote(key string) (n StartNote, ok bool, err error) {
	path := s.notePath(key)
	f, err := openNoFollow(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return StartNote{}, false, nil
	}
	if err != nil {
		return StartNote{}, false, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<16))
	if err != nil {
		return StartNote{}, false, fmt.Errorf("%s: %w", path, err)
	}
	if err := json.Unmarshal(b, &n); err != nil || n.Instance != key {
		return StartNote{}, false, &CorruptError{Path: path, Err: fmt.Errorf("not a start note of %s: %v", key, err)}
	}
	return n, true, nil
}
