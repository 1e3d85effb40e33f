// Package nsf is the simulated Domino database format. Each database file
// records in a fixed header whether it is open (being written) or was closed
// cleanly, so that a copy taken at any instant can be judged.
package nsf

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

const (
	magic     = "SIMNSF01"
	stateOpen = "OPEN----"
	stateOK   = "CLEAN---"
	headerLen = len(magic) + len(stateOK)
)

// Extensions are the file endings that hold databases.
var Extensions = []string{".nsf", ".ntf", ".box"}

// ErrNotDatabase marks a file without a valid header.
var ErrNotDatabase = errors.New("not a simulated database")

// DB is an open database.
type DB struct {
	mu   sync.Mutex
	f    *os.File
	path string
	seq  int
}

// Create writes a new, cleanly closed database at path.
func Create(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(magic+stateOK+"\n"), 0o644)
}

// Open opens path for writing and marks it open on disk. The file is
// created when it does not exist.
func Open(path string) (*DB, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if err := Create(path); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	if err := writeState(f, stateOpen); err != nil {
		f.Close()
		return nil, err
	}
	return &DB{f: f, path: path}, nil
}

// Write appends one record.
func (d *DB) Write(who string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return os.ErrClosed
	}
	d.seq++
	rec := fmt.Sprintf("%s %s %d\n", time.Now().UTC().Format(time.RFC3339Nano), who, d.seq)
	if _, err := d.f.Seek(0, io.SeekEnd); err != nil {
		return err
	}
	_, err := d.f.WriteString(rec)
	return err
}

// Close flushes the database and marks it cleanly closed.
func (d *DB) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return nil
	}
	err := d.f.Sync()
	if err == nil {
		err = writeState(d.f, stateOK)
	}
	if cerr := d.f.Close(); err == nil {
		err = cerr
	}
	d.f = nil
	return err
}

// Path returns the database's file path.
func (d *DB) Path() string { return d.path }

func writeState(f *os.File, state string) error {
	if _, err := f.WriteAt([]byte(magic+state), 0); err != nil {
		return err
	}
	return f.Sync()
}

// Clean reports whether the database at path was closed cleanly.
func Clean(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	buf := make([]byte, headerLen)
	if _, err := io.ReadFull(f, buf); err != nil || string(buf[:len(magic)]) != magic {
		return false, fmt.Errorf("%s: %w", path, ErrNotDatabase)
	}
	return string(buf[len(magic):]) == stateOK, nil
}

// IsDatabase reports whether name has a database file ending.
func IsDatabase(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	for _, e := range Extensions {
		if ext == e {
			return true
		}
	}
	return false
}

// Report is the result of verifying a directory.
type Report struct {
	Checked int
	Dirty   []string // relative paths of databases not closed cleanly
	Broken  []string // relative paths of files that are not valid databases
}

// Consistent reports whether at least one database was found and all were
// closed cleanly.
func (r Report) Consistent() bool {
	return r.Checked > 0 && len(r.Dirty) == 0 && len(r.Broken) == 0
}

// Verify checks every database under dir.
func Verify(dir string) (Report, error) {
	var r Report
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !IsDatabase(d.Name()) {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		r.Checked++
		clean, err := Clean(path)
		switch {
		case errors.Is(err, ErrNotDatabase):
			r.Broken = append(r.Broken, rel)
		case err != nil:
			return err
		case !clean:
			r.Dirty = append(r.Dirty, rel)
		}
		return nil
	})
	return r, err
}
