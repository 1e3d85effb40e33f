package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func isDB(name string) bool { return strings.HasSuffix(name, ".nsf") }

// A manifest written into a directory reads back; a link in its place is
// replaced, never written through; the data files are listed, and a copy
// is compared with them: changed, new and missing files are named.
func TestManifestWriteReadChanges(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"names.nsf", "mail/a.nsf", "notes.ini"} {
		_ = os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	victim := filepath.Join(t.TempDir(), "victim")
	_ = os.WriteFile(victim, []byte("precious"), 0o644)
	if err := os.Symlink(victim, filepath.Join(dir, Name)); err != nil {
		t.Fatal(err)
	}
	l := Location{Dir: dir, Data: isDB}
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	if err := l.Take(Manifest{Instance: "domino /d", Kind: "domino", Method: "stop", Caller: "vmware", Observed: "stopped"}, now); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Fatal("written through a planted link")
	}
	m, err := Read(dir)
	if err != nil || m.Version != Version || m.Caller != "vmware" || !m.Time.Equal(now) || m.Data != dir || len(m.Files) != 2 ||
		m.Files[0].Path != "mail/a.nsf" || m.Files[1].Path != "names.nsf" || m.Files[1].Size != int64(len("names.nsf")) {
		t.Fatalf("read back: %+v %v", m, err)
	}
	if ch, err := Changes(dir, m, isDB); err != nil || len(ch) != 0 {
		t.Fatalf("unchanged directory: %v %v", ch, err)
	}
	_ = os.WriteFile(filepath.Join(dir, "names.nsf"), []byte("written after"), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "new.nsf"), nil, 0o644)
	_ = os.Remove(filepath.Join(dir, "mail/a.nsf"))
	_ = os.WriteFile(filepath.Join(dir, "notes.ini"), []byte("not data"), 0o644)
	ch, err := Changes(dir, m, isDB)
	if err != nil || len(ch) != 3 || ch[0].String() != "mail/a.nsf missing" || ch[1].String() != "names.nsf changed" || ch[2].String() != "new.nsf new" {
		t.Fatalf("changes: %v %v", ch, err)
	}
	if err := l.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), ErrNone.Error()) {
		t.Fatalf("after Remove: %v", err)
	}
	if err := l.Remove(); err != nil {
		t.Fatalf("removing no manifest: %v", err)
	}
}
