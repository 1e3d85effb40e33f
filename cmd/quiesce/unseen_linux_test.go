package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// A unit systemd reports active whose processes quiesce cannot find (a
// wrong process_path): the freeze fails and leaves the unit running; it
// never reports "not running". With the right path the same freeze stops
// the unit, so only the unseen processes made the difference.
func TestActiveUnitWithoutProcessesFailsTheFreeze(t *testing.T) {
	dir := t.TempDir()
	appDir := filepath.Join(dir, "app")
	if err := os.MkdirAll(appDir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(appDir, "appd")
	in, err := os.Open("/bin/sleep")
	if err != nil {
		t.Fatal(err)
	}
	dst, _ := os.OpenFile(exe, os.O_CREATE|os.O_WRONLY, 0o755)
	_, _ = io.Copy(dst, in)
	in.Close()
	dst.Close()
	unit := fmt.Sprintf("[Unit]\nDefaultDependencies=no\n[Service]\nExecStart=%s 300\n", exe)
	s := bootSystemd(t, map[string]string{"app.service": unit})
	if out, err := s.run("systemctl", "start", "app.service"); err != nil {
		t.Fatalf("systemctl start: %v %s", err, out)
	}
	bin := simtest.Binary(t, "quiesce")
	logFile := filepath.Join(dir, "quiesce.log")
	freezeWith := func(processPath string) (string, error) {
		cfg := filepath.Join(dir, "quiesce.conf")
		body := fmt.Sprintf("[target app]\nmanager = systemd\nunit = app.service\nprocess_path = %s\nready_tcp = 127.0.0.1:1\nstop_timeout = 10s\n\n[freeze]\nstate_dir = %s\nlock_wait = 30s\n",
			processPath, filepath.Join(dir, "state"))
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return s.run(bin, "--config", cfg, "--log-file", logFile, "vmware", "freeze")
	}
	out, err := freezeWith(filepath.Join(dir, "elsewhere"))
	if err == nil || !strings.Contains(out, "systemd unit app.service is active, but none of its processes can be found") {
		t.Fatalf("freeze of an active unit whose processes are unseen: %v\n%s", err, out)
	}
	if strings.Contains(out, "not running") {
		t.Fatalf("reported as not running:\n%s", out)
	}
	if st := s.prop("app.service", "ActiveState"); st != "active" {
		t.Fatalf("unit after the refused freeze: %s", st)
	}
	if out, err := freezeWith(appDir); err != nil {
		t.Fatalf("freeze with the right path: %v\n%s", err, out)
	}
	if st := s.prop("app.service", "ActiveState"); st != "inactive" {
		t.Fatalf("unit after the freeze: %s", st)
	}
}
