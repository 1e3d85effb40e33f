//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// The binary itself, placed under the names VMware Tools and qemu-ga run,
// behaves as their adapter with no extra configuration.
func TestInvokedUnderHookNames(t *testing.T) {
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.2}, "")
	g.mustRun(t, "start")
	dir := t.TempDir()
	names := []struct {
		path, freezeArg, thawArg string
	}{
		{filepath.Join(dir, "backupScripts.d", "50-quiesce"), "freeze", "thaw"},
		{filepath.Join(dir, "pre-freeze-script"), "", ""},
		{filepath.Join(dir, "fsfreeze-hook"), "freeze", "thaw"},
	}
	post := filepath.Join(dir, "post-thaw-script")
	for _, n := range names {
		if err := os.MkdirAll(filepath.Dir(n.path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(g.bin, n.path); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(g.bin, post); err != nil {
		t.Fatal(err)
	}
	hookRun := func(path string, args ...string) string {
		cmd := exec.Command(path, args...)
		cmd.Env = append(os.Environ(), "QUIESCE_CONFIG="+g.cfg, "QUIESCE_LOG_FILE="+g.logFile)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", path, args, err, out)
		}
		return string(out)
	}
	for _, n := range names {
		thaw := n.path
		var fa, ta []string
		if n.freezeArg != "" {
			fa, ta = []string{n.freezeArg}, []string{n.thawArg}
		} else {
			thaw = post // the legacy pair: pre-freeze-script and post-thaw-script
		}
		if out := hookRun(n.path, fa...); !strings.Contains(out, "freeze OK: "+g.name()+" stopped") {
			t.Fatalf("%s: %s", n.path, out)
		}
		if g.sim.Serving() {
			t.Fatalf("%s: still serving after freeze", n.path)
		}
		if out := hookRun(thaw, ta...); !strings.Contains(out, "thaw OK: "+g.name()+" started") || !g.sim.Serving() {
			t.Fatalf("%s: %s", thaw, out)
		}
	}
}

// check shows freeze and thaw against every caller's limits and says what
// does not fit: rc_domino's default 600 s shutdown timeout fits neither
// Veeam's 10 minutes nor what VMware's one 15-minute timer leaves after
// the snapshot and the thaw.
func TestCheckAdvises(t *testing.T) {
	sim := simtest.New(t, simtest.Options{})
	cfg := filepath.Join(t.TempDir(), "rc_domino_config")
	body := "DOMINO_USER=" + sim.User + "\nLOTUS=" + sim.Lotus + "\nDOMINO_DATA_PATH=" + sim.Data + "\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	r := quiesce(t, cfg, "check", "--all")
	for _, want := range []string{
		"vmware    DOES NOT FIT: one timer of 15m0s for freeze, snapshot and thaw",
		"freeze    worst 8m30s (graceful wait 7m50s, escalation 40s)",
		"snapshot  2m0s (estimate)", "thaw      worst 2m42s of the 3m0s kept for it", "margin    1m30s",
		"set DOMINO_SHUTDOWN_TIMEOUT to at most 7m50s or raise [budgets] vmware",
		"veeam     DOES NOT FIT", "limit 10m0s per freeze", "set DOMINO_SHUTDOWN_TIMEOUT to at most 8m20s",
		"qemu      DOES NOT FIT", "thaw      worst 2m42s; limit 3m0s per thaw",
		"a start slower than 2m42s (start timeout 10m0s) outlives the thaw", "raise [budgets] qemu_thaw",
	} {
		if r.code != ExitFailure || !strings.Contains(r.stdout, want) {
			t.Fatalf("check lacks %q: %+v", want, r)
		}
	}
	if err := os.WriteFile(cfg, []byte(body+"DOMINO_SHUTDOWN_TIMEOUT=180\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := quiesce(t, cfg, "check", "--all"); r.code != ExitOK || strings.Contains(r.stdout, "DOES NOT FIT") || !strings.Contains(r.stdout, "vmware    fits") {
		t.Fatalf("check with 180 s: %+v", r)
	}
}

// In Veeam mode nothing reaches stderr, not even a configuration error.
func TestVeeamModeKeepsStderrEmpty(t *testing.T) {
	bin := simtest.Binary(t, "quiesce")
	for _, args := range [][]string{
		{"--config", "/nonexistent/quiesce.conf", "veeam", "pre-freeze"},
		{"veeam", "bogus"},
		{"--config", "/nonexistent/quiesce.conf", "--log-file", "/proc/forbidden/log", "veeam", "post-thaw"},
	} {
		cmd := exec.Command(bin, args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		_ = cmd.Run()
		if cmd.ProcessState.ExitCode() != 1 || errb.Len() != 0 || out.Len() == 0 {
			t.Errorf("%v: exit %d stdout %q stderr %q", args, cmd.ProcessState.ExitCode(), out.String(), errb.String())
		}
	}
}

// check recognises Domino by what the target is, not by its name: an
// application configured as [target domino] (a generic target, as older
// Windows guides wrote it) is advised on its own key, stop_timeout, never
// on domino.shutdown_timeout, which that configuration does not have.
func TestCheckAdvisesGenericNamedDomino(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "quiesce.conf")
	body := "[target domino]\nmanager = systemd\nunit = domino.service\nprocess_path = " + dir + "\nready_tcp = 127.0.0.1:1\nstop_timeout = 20m\n\n[freeze]\nstate_dir = " + filepath.Join(dir, "state") + "\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	r := quiesce(t, cfg, "check", "--all")
	if r.code != ExitFailure || !strings.Contains(r.stdout, "set stop_timeout of [target domino] to at most") {
		t.Fatalf("check does not advise the generic target's own key: %+v", r)
	}
	if strings.Contains(r.stdout, "shutdown_timeout") {
		t.Fatalf("check names a key the configuration does not have: %s", r.stdout)
	}
}
