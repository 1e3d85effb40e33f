//go:build linux

package service

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSystemctl writes an executable that logs its arguments to a file,
// answers "show -p LoadState" with load and "show -p ActiveState" with
// active, and fails "start bad.service" the way systemctl does (a message
// on stderr, exit 1).
func fakeSystemctl(t *testing.T, load, active string) (bin, calls string) {
	t.Helper()
	dir := t.TempDir()
	bin, calls = filepath.Join(dir, "systemctl"), filepath.Join(dir, "calls")
	script := `#!/bin/sh
echo "$*" >> ` + calls + `
case "$1 $3" in
  "show LoadState") echo ` + load + ` ;;
  "show ActiveState") echo ` + active + ` ;;
esac
if [ "$1" = start ] && [ "$2" = bad.service ]; then
  echo "Job for bad.service failed because the control process exited with error code." >&2
  exit 1
fi
`
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, calls
}

func readCalls(t *testing.T, calls string) []string {
	b, _ := os.ReadFile(calls)
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func TestSystemdRunsSystemctl(t *testing.T) {
	bin, calls := fakeSystemctl(t, "loaded", "active")
	ctx := context.Background()
	app := Systemd{Unit: "app.service", Systemctl: bin}
	if _, err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := app.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if !app.Loaded(ctx) {
		t.Error("a loaded unit reported as unknown to systemd")
	}
	if active, st, err := app.Active(ctx); err != nil || !active || st != "active" {
		t.Errorf("active: %v %q %v", active, st, err)
	}
	want := []string{"start app.service", "stop app.service", "show -p LoadState --value app.service", "show -p ActiveState --value app.service"}
	if got := readCalls(t, calls); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("systemctl ran as %q, want %q", got, want)
	}
	err := Systemd{Unit: "bad.service", Systemctl: bin}.Run(ctx, "start")
	if err == nil || !strings.Contains(err.Error(), "systemctl start bad.service") || !strings.Contains(err.Error(), "control process exited") {
		t.Errorf("failed start: %v, want systemctl's words", err)
	}
}

func TestSystemdLoadedAndActiveStates(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		load, active string
		loaded, on   bool
	}{
		{"loaded", "activating", true, true},
		{"loaded", "inactive", true, false},
		{"loaded", "failed", true, false},
		{"not-found", "inactive", false, false},
	} {
		bin, _ := fakeSystemctl(t, c.load, c.active)
		u := Systemd{Unit: "app.service", Systemctl: bin}
		on, _, err := u.Active(ctx)
		if u.Loaded(ctx) != c.loaded || on != c.on || err != nil {
			t.Errorf("LoadState %s ActiveState %s: loaded %v active %v (%v); want %v %v", c.load, c.active, u.Loaded(ctx), on, err, c.loaded, c.on)
		}
	}
	if (Systemd{Unit: "app.service", Systemctl: filepath.Join(t.TempDir(), "missing")}).Loaded(ctx) {
		t.Error("no systemctl: unit reported loaded")
	}
}
