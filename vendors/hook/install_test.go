package hook

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestInstallFileIdempotentAndGuarded(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "50-quiesce")
	body := Render([]byte("#!/bin/sh\n# "+Marker+"\nexec @QUIESCE@ vmware \"$@\"\n"), "/usr/local/sbin/quiesce")
	if !strings.Contains(string(body), "exec /usr/local/sbin/quiesce vmware") {
		t.Fatalf("render: %s", body)
	}
	if msg, err := InstallFile(path, body); err != nil || !strings.HasPrefix(msg, "installed: ") {
		t.Fatalf("first install: %q %v", msg, err)
	}
	st, _ := os.Stat(path)
	if !st.Mode().IsRegular() || (runtime.GOOS != "windows" && st.Mode().Perm() != 0o755) { // Windows has no execute bit
		t.Fatalf("mode %v", st.Mode())
	}
	if msg, err := InstallFile(path, body); err != nil || !strings.HasPrefix(msg, "already installed: ") {
		t.Fatalf("second install: %q %v", msg, err)
	}
	foreign := filepath.Join(dir, "theirs")
	if err := os.WriteFile(foreign, []byte("#!/bin/sh\necho mine\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := InstallFile(foreign, body); !errors.Is(err, ErrNotOurs) || err.Error() != foreign+" exists and was not installed by quiesce; move it away first" {
		t.Fatalf("overwrote a foreign file, or said it wrongly: %v", err)
	}
	if _, err := RemoveFile(foreign); !errors.Is(err, ErrNotOurs) || err.Error() != foreign+" was not installed by quiesce; not removing it" {
		t.Fatalf("removed a foreign file, or said it wrongly: %v", err)
	}
	if b, _ := os.ReadFile(foreign); string(b) != "#!/bin/sh\necho mine\n" {
		t.Fatal("foreign file changed")
	}
	if msg, err := RemoveFile(path); err != nil || !strings.HasPrefix(msg, "removed: ") {
		t.Fatalf("remove: %q %v", msg, err)
	}
	if msg, err := RemoveFile(path); err != nil || !strings.HasPrefix(msg, "not installed: ") {
		t.Fatalf("remove again: %q %v", msg, err)
	}
}
