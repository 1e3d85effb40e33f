// Package manifest is the proof a snapshot carries of itself: before the
// cut, each frozen instance's method writes a small manifest into the
// instance's data location, saying what was frozen, how, by whom, when,
// what quiesce observed, and the data files with their size and
// modification time. A restore point then holds it, and "quiesce verify"
// judges the copy by it; the thaw removes it from the live system.
package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/runas"
)

// Name is the manifest's file name in the data location.
const Name = "quiesce-snapshot.json"

// Version of the manifest format.
const Version = 1

// MaxFiles bounds the files a manifest lists (a data directory of a very
// large server): beyond it the manifest says it is truncated.
const MaxFiles = 200000

// maxSize bounds what is read of a manifest.
const maxSize = 64 << 20

// File is one data file as it was when the manifest was written.
type File struct {
	Path  string    `json:"path"` // relative to the data location, with /
	Size  int64     `json:"size"`
	Mtime time.Time `json:"mtime"`
}

// Manifest is what a snapshot says of itself.
type Manifest struct {
	Version  int       `json:"quiesce_snapshot_manifest"`
	Instance string    `json:"instance"` // the instance's readable name
	Kind     string    `json:"kind"`     // "domino", "target"
	Method   string    `json:"method"`   // the freeze method: "stop", "domino-backup"
	Caller   string    `json:"caller"`   // who froze it
	Job      string    `json:"job,omitempty"`
	Since    time.Time `json:"since"` // when the freeze began
	Time     time.Time `json:"time"`  // when the manifest was written: before the cut
	Observed string    `json:"observed"`
	// Backup and Deltas: an online freeze's Domino Backup identity
	// (BackupStartDT) and where Domino writes its .DELTA files.
	Backup    string `json:"backup,omitempty"`
	Deltas    string `json:"deltas,omitempty"`
	Data      string `json:"data"` // the data location on the live system
	Files     []File `json:"files"`
	Truncated bool   `json:"truncated,omitempty"`
}

// Location is where an instance's manifest goes: its data location, the
// user who owns it (the manifest is written as that user: runas.Files),
// and which files are its data.
type Location struct {
	Dir     string
	Account runas.Account
	Data    func(name string) bool // a data file's name; nil: every regular file
}

// Scan lists the data files under l.Dir (regular files only; links are
// not followed), in path order, at most MaxFiles.
func (l Location) Scan() ([]File, bool, error) {
	var out []File
	truncated := false
	err := runas.Files(l.Account, func() error {
		var err error
		out, truncated, err = scan(l.Dir, l.Data)
		return err
	})
	return out, truncated, err
}

func scan(dir string, data func(string) bool) ([]File, bool, error) {
	var out []File
	truncated := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil && path == dir:
			return err
		case err != nil: // an unreadable subdirectory: not the data's
			return nil
		case !d.Type().IsRegular() || d.Name() == Name || (data != nil && !data(d.Name())):
			return nil
		case len(out) >= MaxFiles:
			truncated = true
			return filepath.SkipAll
		}
		st, err := d.Info()
		if err != nil {
			return nil // gone meanwhile
		}
		rel, _ := filepath.Rel(dir, path)
		out = append(out, File{Path: filepath.ToSlash(rel), Size: st.Size(), Mtime: st.ModTime().UTC()})
		return nil
	})
	return out, truncated, err
}

// Write writes m into l.Dir as l.Account: a new file beside the old one,
// synced, renamed into place, the directory synced. A reader (and a
// snapshot) sees the old manifest or the new one, never half of one; a
// link planted in its place is replaced, never followed.
func (l Location) Write(m Manifest) error {
	m.Version = Version
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	return runas.Files(l.Account, func() error { return writeAtomic(l.Dir, append(b, '\n')) })
}

func writeAtomic(dir string, b []byte) error {
	tmp, err := os.CreateTemp(dir, "."+Name+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
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
	if err := os.Rename(tmp.Name(), filepath.Join(dir, Name)); err != nil {
		return err
	}
	return syncDir(dir)
}

// Remove removes the manifest from l.Dir as l.Account; none is no error.
func (l Location) Remove() error {
	err := runas.Files(l.Account, func() error { return os.Remove(filepath.Join(l.Dir, Name)) })
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// ErrNone: the directory holds no manifest.
var ErrNone = errors.New("no quiesce snapshot manifest")

// Read reads the manifest of dir (a data location, live or in a restore
// point): a regular file, not through a link, of bounded size.
func Read(dir string) (Manifest, error) {
	path := filepath.Join(dir, Name)
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Manifest{}, fmt.Errorf("%s: %w", dir, ErrNone)
	case err != nil:
		return Manifest{}, err
	case !st.Mode().IsRegular():
		return Manifest{}, fmt.Errorf("%s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return Manifest{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err != nil {
		return Manifest{}, err
	}
	if len(b) > maxSize {
		return Manifest{}, fmt.Errorf("%s: larger than %d bytes", path, maxSize)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("%s: %w", path, err)
	}
	if m.Version != Version {
		return Manifest{}, fmt.Errorf("%s: manifest version %d, this quiesce reads %d", path, m.Version, Version)
	}
	return m, nil
}

// Change is a data file that differs in a copy from its manifest.
type Change struct {
	Path string
	What string // "missing", "changed", "new"
}

func (c Change) String() string { return c.Path + " " + c.What }

// Changes compares the data files under dir (a copy) with m's list:
// files missing, changed (size or modification time; times compared to
// the second, which every file system and copy keeps) or new. data
// selects the data files as when the manifest was written. A truncated
// manifest is compared on what it lists.
func Changes(dir string, m Manifest, data func(string) bool) ([]Change, error) {
	now, _, err := scan(dir, data)
	if err != nil {
		return nil, err
	}
	was := map[string]File{}
	for _, f := range m.Files {
		was[f.Path] = f
	}
	var out []Change
	for _, f := range now {
		old, ok := was[f.Path]
		delete(was, f.Path)
		switch {
		case !ok && !m.Truncated:
			out = append(out, Change{f.Path, "new"})
		case !ok:
		case old.Size != f.Size || !old.Mtime.Truncate(time.Second).Equal(f.Mtime.Truncate(time.Second)):
			out = append(out, Change{f.Path, "changed"})
		}
	}
	for p := range was {
		out = append(out, Change{p, "missing"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Freeze is a freeze method's manifest of run r by caller c, before the
// files: what froze the instance, how, and what it observed.
func Freeze(r *freeze.Run, method string, c freeze.Caller, observed string) Manifest {
	inst := r.Instance()
	return Manifest{Instance: inst.Name, Kind: inst.Kind, Method: method, Caller: c.Name, Job: c.Job, Since: r.Rec.Since, Observed: observed}
}

// Take completes m with l's data files and the time, and writes it into
// l.Dir (see Write). It is a step of a freeze method's Enter: the last
// thing before the freeze returns and the caller cuts the snapshot.
func (l Location) Take(m Manifest, now time.Time) error {
	files, truncated, err := l.Scan()
	if err != nil {
		return err
	}
	m.Time, m.Data, m.Files, m.Truncated = now.UTC(), l.Dir, files, truncated
	return l.Write(m)
}
