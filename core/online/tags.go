package online

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// The tag file, dominobackup_<BackupStartDT>.tag in the data directory
// (HCL's Veeam integration), names the backup a snapshot belongs to: a
// restore looks for it in the restore point. Its first line is the
// BackupStartDT, as HCL's script writes it; quiesce adds a second line,
// tagMarker, by which it knows its own tags from anyone else's.

// tagMarker begins the second line of a tag file quiesce wrote.
const tagMarker = "# quiesce domino-backup:"

// maxTagSize bounds what is read of a tag file.
const maxTagSize = 4 << 10

var tagName = regexp.MustCompile(`^dominobackup_([0-9]{8,20})\.tag$`)

// TagName is the tag file's name for backup id.
func TagName(id string) string { return "dominobackup_" + id + ".tag" }

func tagPath(data, id string) string { return filepath.Join(data, TagName(id)) }

// writeTag writes the tag file of backup id.
func writeTag(path, id string) error {
	body := fmt.Sprintf("%s\n%s snapshot tag of Domino Backup %s; removed once the snapshot is taken\n", id, tagMarker, id)
	return os.WriteFile(path, []byte(body), 0o644)
}

// Tag is what a tag file says.
type Tag struct {
	ID      string // from the file name
	Content string // its first line
	Ours    bool   // quiesce wrote it
}

// ReadTag reads a tag file without following a symbolic link: only a
// regular file, at most 4 KiB.
func ReadTag(path string) (Tag, error) {
	m := tagName.FindStringSubmatch(filepath.Base(path))
	if m == nil {
		return Tag{}, fmt.Errorf("%s is not a tag file name (dominobackup_<BackupStartDT>.tag)", path)
	}
	f, err := openNoFollow(path)
	if err != nil {
		return Tag{}, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return Tag{}, fmt.Errorf("%s: not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxTagSize))
	if err != nil {
		return Tag{}, err
	}
	first, rest, _ := strings.Cut(string(b), "\n")
	second, _, _ := strings.Cut(rest, "\n")
	return Tag{ID: m[1], Content: strings.TrimSpace(first), Ours: strings.HasPrefix(second, tagMarker)}, nil
}

// Tags lists the tag files in dir, by backup identity.
func Tags(dir string) ([]Tag, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Tag
	for _, e := range entries {
		if !tagName.MatchString(e.Name()) {
			continue
		}
		t, err := ReadTag(filepath.Join(dir, e.Name()))
		if err != nil {
			t = Tag{ID: tagName.FindStringSubmatch(e.Name())[1]}
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// removeStaleTags removes the tag files quiesce wrote for backups other
// than keep: the tags of backups whose snapshot start command was killed
// (Domino gave up on it) or never ended cleanly. A snapshot must hold
// exactly its own tag, or a restore of the old backup could find it in
// a later snapshot. Tags quiesce did not write are left alone. It returns
// the backups whose tags went.
func removeStaleTags(data, keep string) []string {
	tags, _ := Tags(data)
	var gone []string
	for _, t := range tags {
		if t.ID == keep || !t.Ours {
			continue
		}
		if os.Remove(tagPath(data, t.ID)) == nil {
			gone = append(gone, t.ID)
		}
	}
	return gone
}
