package config

import (
	"os"
	"path/filepath"
	"testing"
)

// The example quiesce.conf a package installs is all comments: while it is,
// an existing rc_domino_config is still the one read; once the admin writes
// a setting into it, it is read. As the last default it is read anyway.
func TestFindPassesOverACommentedExample(t *testing.T) {
	dir := t.TempDir()
	example, rc := filepath.Join(dir, "quiesce.conf"), filepath.Join(dir, "rc_domino_config")
	write := func(path, body string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(example, "# example\n\n   # [domino]\n#user = notes\n")
	write(rc, "DOMINO_USER=notes\n")
	if p, err := Find("", []string{example, rc}); err != nil || p != rc {
		t.Fatalf("commented example before rc_domino_config: %q %v", p, err)
	}
	if p, err := Find("", []string{example}); err != nil || p != example {
		t.Fatalf("commented example as the only default: %q %v", p, err)
	}
	if p, err := Find(example, []string{rc}); err != nil || p != example {
		t.Fatalf("named with --config: %q %v", p, err)
	}
	write(example, "# example\n[domino]\n")
	if p, err := Find("", []string{example, rc}); err != nil || p != example {
		t.Fatalf("example with a setting: %q %v", p, err)
	}
}
