package online

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/manifest"
)

// Judge says why the copy of a data directory in dir, whose manifest m an
// online freeze wrote, is not a consistent snapshot; nil when it is. An
// online snapshot is consistent only together with its deltas: the copy
// must hold exactly the tag file of m's backup, and every database that
// changed after the manifest needs its .DELTA in deltas (m.Deltas when
// ""), which must hold the backup's deltas at all. It returns how many
// deltas it found.
func Judge(dir string, m manifest.Manifest, deltas string) (int, error) {
	if m.Backup == "" {
		return 0, fmt.Errorf("the manifest names no Domino Backup")
	}
	tags, err := Tags(dir)
	if err != nil {
		return 0, err
	}
	var ids []string
	for _, t := range tags {
		ids = append(ids, t.ID)
	}
	switch {
	case len(tags) == 0:
		return 0, fmt.Errorf("tag mismatch: no tag file in the copy; the manifest names backup %s", m.Backup)
	case len(tags) > 1 || tags[0].ID != m.Backup:
		return 0, fmt.Errorf("tag mismatch: the copy holds the tag files of backups %s; the manifest names backup %s only", strings.Join(ids, ", "), m.Backup)
	case tags[0].Content != m.Backup:
		return 0, fmt.Errorf("tag mismatch: %s says %q", TagName(m.Backup), tags[0].Content)
	}
	if deltas == "" {
		deltas = m.Deltas
	}
	n := countFiles(deltas)
	if n == 0 {
		return 0, fmt.Errorf("deltas missing: no .DELTA files of backup %s in %s (an online snapshot restores only with them: give --deltas DIR)", m.Backup, deltas)
	}
	changes, err := manifest.Changes(dir, m, domino.IsDatabase)
	if err != nil {
		return n, err
	}
	var missing, gone []string
	for _, c := range changes {
		switch {
		case c.What == "missing":
			gone = append(gone, c.Path)
		case !isFile(filepath.Join(deltas, filepath.FromSlash(c.Path)+".DELTA")):
			missing = append(missing, c.Path)
		}
	}
	switch {
	case len(gone) > 0:
		return n, fmt.Errorf("%d databases of the manifest are not in the copy (%s)", len(gone), list(gone))
	case len(missing) > 0:
		return n, fmt.Errorf("deltas missing: %d databases changed in backup mode have no .DELTA in %s (%s)", len(missing), deltas, list(missing))
	}
	return n, nil
}

func isFile(path string) bool {
	st, err := os.Lstat(path)
	return err == nil && st.Mode().IsRegular()
}

// list names the first few of names.
func list(names []string) string {
	if len(names) > 3 {
		return strings.Join(names[:3], ", ") + fmt.Sprintf(", and %d more", len(names)-3)
	}
	return strings.Join(names, ", ")
}
