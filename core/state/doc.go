package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// A document is quiesce's own data kept beside the freeze records (the
// monitoring counters, ...), written the same atomic way. Its name holds a
// dot, so that it never meets a target's record (target names have none).

func (s *Store) docPath(name string) string { return filepath.Join(s.dir, name+".json") }

// SaveDoc writes v as the document name atomically.
func (s *Store) SaveDoc(name string, v any) error {
	return s.writeJSON(s.docPath(name), "."+name+".*.tmp", v)
}

// LoadDoc reads the document name into v; ok is false when there is none.
// A document that does not parse is a *CorruptError.
func (s *Store) LoadDoc(name string, v any) (ok bool, err error) {
	path := s.docPath(name)
	f, err := openNoFollow(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, &CorruptError{Path: path, Err: err}
	}
	return true, nil
}
