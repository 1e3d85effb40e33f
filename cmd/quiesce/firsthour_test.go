//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// A word after a command that takes none is a usage error, one line that
// names it, exit 2, and nothing is done: "quiesce stop now" used to stop
// Domino (#21 item 5).
func TestExcessArgumentsAreUsageErrors(t *testing.T) {
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.2}, "")
	g.mustRun(t, "start")
	for _, args := range [][]string{{"stop", "now"}, {"status", "domino2"}, {"start", "again"}, {"restart", "x"}, {"recover", "x"},
		{"version", "x"}, {"install", "vmware", "x"}} {
		code, out := g.run(t, args...)
		if code != ExitUsage || strings.Count(out, "\n") != 1 || !strings.Contains(out, `unexpected argument "`+args[len(args)-1]+`"`) {
			t.Errorf("%v: exit %d %q; want exit %d and one line naming %q", args, code, out, ExitUsage, args[len(args)-1])
		}
	}
	if !g.sim.Serving() {
		t.Fatal("a command with a word too many changed the server")
	}
}

// check leads with the verdict for the hooks installed here, one line
// each; each caller's plan in full comes on request, for the callers
// named (#21 item 13: it was 58 lines at 2 a.m.).
func TestCheckLeadsWithTheVerdict(t *testing.T) {
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.2}, "")
	dir := filepath.Join(t.TempDir(), "backupScripts.d")
	g.mustRun(t, "install", "vmware", "--dir", dir)
	none := t.TempDir()
	where := []string{"--vmware-dir", dir, "--qemu-hook", filepath.Join(none, "h"), "--qemu-dropin-dir", none, "--veeam-dir", none,
		"--nutanix-dir", none, "--gcp-dir", none, "--azure-plugin-config", filepath.Join(none, "p.json"), "--aws-document", filepath.Join(none, "d.yaml")}
	code, out := g.run(t, append([]string{"check"}, where...)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || !strings.HasPrefix(lines[0], "quiesce check: OK") || len(lines) > 7 ||
		!strings.Contains(out, "vmware    fits          hook "+filepath.Join(dir, "50-quiesce")) || strings.Contains(out, "freeze    worst") {
		t.Fatalf("check: exit %d, %d lines:\n%s", code, len(lines), out)
	}
	t.Logf("check:\n%s", out)
	code, out = g.run(t, append(append([]string{"check"}, where...), "vmware")...)
	t.Logf("check vmware:\n%s", out)
	if code != 0 || !strings.Contains(out, "vmware    fits: one timer") || strings.Contains(out, "veeam     ") || !strings.Contains(out, "a stop takes at most") {
		t.Fatalf("check vmware: exit %d\n%s", code, out)
	}
	if code, out := g.run(t, "check", "bogus"); code != ExitUsage || !strings.Contains(out, `"bogus" is no caller`) {
		t.Fatalf("check bogus: exit %d %s", code, out)
	}
	if code, out := g.run(t, "check", "vmware", "--vmware-dir", dir); code != ExitUsage || !strings.Contains(out, "options go first") {
		t.Fatalf("check vmware --vmware-dir: exit %d %s", code, out)
	}
}

// A user who may not write the log gets the real error first and alone on
// the caller's stream (Veeam shows the first line); the log problem is
// for check and status, and the system log (#21 item 8).
func TestLogProblemStaysOffTheCallersStream(t *testing.T) {
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.2}, "")
	g.mustRun(t, "start")
	notes := newAttacker(t, g.sim)
	dir := openDir(t, 0o755)
	bin := filepath.Join(dir, "quiesce")
	if err := exec.Command("cp", g.bin, bin).Run(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", g.cfg, "--log-file", g.logFile, "vmware", "freeze")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: notes.uid, Gid: notes.gid}}
	out, _ := cmd.CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if cmd.ProcessState.ExitCode() == 0 || strings.Contains(string(out), "log file") || !strings.Contains(lines[0], "permission denied") {
		t.Fatalf("vmware freeze as %s: exit %d\n%s", notes.name, cmd.ProcessState.ExitCode(), out)
	}
	// The same log path, unusable for root too: check names the problem.
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	code, text := g.run(t, "--log-file", filepath.Join(blocker, "quiesce.log"), "status")
	if code != 0 || !strings.Contains(text, "log: cannot open log file "+filepath.Join(blocker, "quiesce.log")) {
		t.Fatalf("status with an unusable log: exit %d\n%s", code, text)
	}
	if !g.sim.Serving() {
		t.Fatal("the server changed")
	}
}
