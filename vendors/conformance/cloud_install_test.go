//go:build linux

package conformance

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// quiesceFails runs quiesce expecting a failure and returns its output.
func (r *rig) quiesceFails(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(r.bin, args...)
	cmd.Env = append(os.Environ(), r.env...)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("quiesce %v succeeded:\n%s", args, out)
	}
	return string(out)
}

func rootOnly(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 || !st.Mode().IsRegular() {
		t.Fatalf("%s: mode %v, want 0700", path, st.Mode())
	}
	if os.Geteuid() == 0 && st.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Fatalf("%s is not owned by root", path)
	}
}

// install nutanix writes both scripts root-only, is idempotent, refuses
// a script it did not write (install and uninstall), and check says
// whether NGT would run them.
func TestNutanixInstallSafety(t *testing.T) {
	r := newRig(t, quick, "fail")
	dir := filepath.Join(t.TempDir(), "sbin")
	r.quiesce(t, "install", "nutanix", "--dir", dir, "--binary", r.bin)
	for _, n := range []string{"pre_freeze", "post_thaw"} {
		rootOnly(t, filepath.Join(dir, n))
	}
	if out := r.quiesce(t, "install", "nutanix", "--dir", dir, "--binary", r.bin); strings.Count(out, "already installed: ") != 2 {
		t.Fatalf("reinstall: %s", out)
	}
	if out := r.quiesce(t, "check", "--all", "--nutanix-dir", dir); !strings.Contains(out, filepath.Join(dir, "pre_freeze")+": quiesce's, as NGT demands it") {
		t.Fatalf("check:\n%s", out)
	}
	pre := filepath.Join(dir, "pre_freeze")
	if err := os.Chmod(pre, 0o755); err != nil {
		t.Fatal(err)
	}
	if out := r.quiesceFails(t, "check", "--all", "--nutanix-dir", dir); !strings.Contains(out, "mode 0755, NGT demands 0700") {
		t.Fatalf("check of a 0755 script:\n%s", out)
	}
	r.quiesce(t, "uninstall", "nutanix", "--dir", dir)
	foreign := []byte("#!/bin/sh\n/etc/init.d/rc_domino stop\n")
	if err := os.WriteFile(pre, foreign, 0o700); err != nil {
		t.Fatal(err)
	}
	if out := r.quiesceFails(t, "install", "nutanix", "--dir", dir, "--binary", r.bin); !strings.Contains(out, "not installed by quiesce") {
		t.Fatalf("install over a foreign script: %s", out)
	}
	if out := r.quiesceFails(t, "uninstall", "nutanix", "--dir", dir); !strings.Contains(out, "not installed by quiesce") {
		t.Fatalf("uninstall of a foreign script: %s", out)
	}
	if b, _ := os.ReadFile(pre); string(b) != string(foreign) {
		t.Fatalf("the foreign script was changed:\n%s", b)
	}
}

// install gcp writes pre.sh and post.sh root-only; without
// --enable-agent it leaves the agent's configuration byte for byte and
// says what to set, and check says the agent will not run them; with it,
// only [Snapshots] enabled changes and the old file is kept.
func TestGCPInstallAgentConsent(t *testing.T) {
	r := newRig(t, quick, "fail")
	root := t.TempDir()
	dir, cfg := filepath.Join(root, "snapshots"), filepath.Join(root, "instance_configs.cfg")
	orig := "[Accounts]\ndeprovision_remove = true\n\n[Snapshots]\nenabled = false\ntimeout_in_seconds = 90\n"
	if err := os.WriteFile(cfg, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	out := r.quiesce(t, "install", "gcp", "--dir", dir, "--agent-config", cfg, "--binary", r.bin)
	if !strings.Contains(out, "the guest agent does NOT run them yet") {
		t.Fatalf("install:\n%s", out)
	}
	if b, _ := os.ReadFile(cfg); string(b) != orig {
		t.Fatalf("install changed the agent's configuration without consent:\n%s", b)
	}
	for _, n := range []string{"pre.sh", "post.sh"} {
		rootOnly(t, filepath.Join(dir, n))
	}
	if out := r.quiesceFails(t, "check", "--all", "--gcp-dir", dir, "--gcp-agent-config", cfg); !strings.Contains(out, "the agent will NOT run them: [Snapshots] enabled = true is not set") {
		t.Fatalf("check:\n%s", out)
	}
	r.quiesce(t, "install", "gcp", "--dir", dir, "--agent-config", cfg, "--enable-agent", "--binary", r.bin)
	want := strings.Replace(orig, "enabled = false", "enabled = true", 1)
	if b, _ := os.ReadFile(cfg); string(b) != want {
		t.Fatalf("enabled:\n%s", b)
	}
	if b, _ := os.ReadFile(cfg + ".quiesce-old"); string(b) != orig {
		t.Fatalf("the old configuration was not kept:\n%s", b)
	}
	if out := r.quiesce(t, "check", "--all", "--gcp-dir", dir, "--gcp-agent-config", cfg); !strings.Contains(out, "it kills each after timeout_in_seconds = 90") {
		t.Fatalf("check:\n%s", out)
	}
	out = r.quiesce(t, "uninstall", "gcp", "--dir", dir, "--agent-config", cfg)
	if strings.Count(out, "removed: ") != 2 {
		t.Fatalf("uninstall:\n%s", out)
	}
	if b, _ := os.ReadFile(cfg); string(b) != want {
		t.Fatalf("uninstall changed the agent's configuration:\n%s", b)
	}
	foreign := []byte("#!/bin/sh\nsync\n")
	if err := os.WriteFile(filepath.Join(dir, "pre.sh"), foreign, 0o700); err != nil {
		t.Fatal(err)
	}
	if out := r.quiesceFails(t, "install", "gcp", "--dir", dir, "--agent-config", cfg, "--binary", r.bin); !strings.Contains(out, "not installed by quiesce") {
		t.Fatalf("install over a foreign pre.sh: %s", out)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "pre.sh")); string(b) != string(foreign) {
		t.Fatal("the foreign pre.sh was changed")
	}
}
