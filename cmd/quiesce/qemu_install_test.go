//go:build linux

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// runCLI runs the CLI in-process without a configuration.
func runCLI(args ...string) result {
	var out, errb bytes.Buffer
	code := run(append([]string{"quiesce"}, args...), stdio{out: &out, err: &errb})
	return result{code, out.String(), errb.String()}
}

// layout writes a guest's qemu-ga files under a temporary root.
func layout(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, body := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const stockHook = "#!/bin/sh\nFSFREEZE_D=$(dirname -- \"$0\")/fsfreeze-hook.d\nexit 0\n"

// install qemu puts the hook where the installed qemu-ga looks, on RHEL's
// layout and on Debian's, says where, and uninstall removes it.
func TestInstallQemuFindsTheHook(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		path  string
		says  []string
	}{
		{"rhel", map[string]string{
			"/usr/lib/systemd/system/qemu-guest-agent.service": "[Service]\nEnvironmentFile=/etc/sysconfig/qemu-ga\nExecStart=/usr/bin/qemu-ga --method=virtio-serial -F${FSFREEZE_HOOK_PATHNAME}\n",
			"/etc/sysconfig/qemu-ga":                           "FSFREEZE_HOOK_PATHNAME=/etc/qemu-ga/fsfreeze-hook\n",
			"/etc/qemu-ga/fsfreeze-hook":                       stockHook,
			"/etc/selinux/config":                              "SELINUX=enforcing\n",
		}, "/etc/qemu-ga/fsfreeze-hook.d/50-quiesce", []string{
			"installed: /etc/qemu-ga/fsfreeze-hook.d/50-quiesce",
			"qemu-ga runs /etc/qemu-ga/fsfreeze-hook (FSFREEZE_HOOK_PATHNAME in /etc/sysconfig/qemu-ga",
			"SELinux: run 'restorecon -v /etc/qemu-ga/fsfreeze-hook.d/50-quiesce'",
		}},
		{"debian", map[string]string{
			"/lib/systemd/system/qemu-guest-agent.service": "[Service]\nExecStart=-/usr/sbin/qemu-ga\n",
			"/etc/qemu/fsfreeze-hook":                      stockHook,
		}, "/etc/qemu/fsfreeze-hook.d/50-quiesce", []string{
			"installed: /etc/qemu/fsfreeze-hook.d/50-quiesce",
			"enabled the hook: wrote /etc/qemu/qemu-ga.conf (qemu-ga was started without -F); restart qemu-guest-agent",
		}},
	}
	sim := simtest.New(t, simtest.Options{})
	cfg, bin := fastConfig(t, sim, "10s"), simtest.Binary(t, "quiesce")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := layout(t, c.files)
			r := runCLI("--config", cfg, "install", "qemu", "--root", root, "--binary", bin) // checked at once with a dry run
			for _, want := range c.says {
				if r.code != ExitOK || !strings.Contains(r.stdout, want) {
					t.Fatalf("install lacks %q: %+v", want, r)
				}
			}
			if b, err := os.ReadFile(filepath.Join(root, c.path)); err != nil || !strings.Contains(string(b), bin) {
				t.Fatalf("%s: %q %v", c.path, b, err)
			}
			if _, err := os.Stat(filepath.Join(root, "/etc/qemu/fsfreeze-hook.d/50-quiesce")); c.name == "rhel" && err == nil {
				t.Fatal("installed where RHEL's qemu-ga never looks")
			}
			r = runCLI("uninstall", "qemu", "--root", root)
			if _, err := os.Stat(filepath.Join(root, c.path)); r.code != ExitOK || !strings.Contains(r.stdout, "removed: "+c.path) || err == nil {
				t.Fatalf("uninstall: %+v", r)
			}
		})
	}
}

// check says where qemu-ga runs its hook, and fails when quiesce is
// installed where qemu-ga will not run it.
func TestCheckShowsTheQemuHook(t *testing.T) {
	sim := simtest.New(t, simtest.Options{})
	cfg, bin := fastConfig(t, sim, "10s"), simtest.Binary(t, "quiesce")
	root := layout(t, map[string]string{
		"/lib/systemd/system/qemu-guest-agent.service": "[Service]\nExecStart=-/usr/sbin/qemu-ga\n",
		"/etc/qemu/fsfreeze-hook":                      stockHook,
		"/etc/qemu/qemu-ga.conf":                       "[general]\nverbose=true\n", // the administrator's: left alone
	})
	if r := runCLI("--config", cfg, "install", "qemu", "--root", root, "--binary", bin); r.code != ExitOK || !strings.Contains(r.stdout, "WARNING: qemu-ga is started without -F") {
		t.Fatalf("install: %+v", r)
	}
	r := quiesce(t, cfg, "check", "--all", "--root", root)
	if r.code != ExitFailure || !strings.Contains(r.stdout, "hook      qemu-ga runs /etc/qemu/fsfreeze-hook") ||
		!strings.Contains(r.stdout, "quiesce is installed at /etc/qemu/fsfreeze-hook.d/50-quiesce, but qemu-ga will NOT run it") {
		t.Fatalf("check: %+v", r)
	}
	if err := os.WriteFile(filepath.Join(root, "/etc/qemu/qemu-ga.conf"), []byte("[general]\nfsfreeze-hook=/etc/qemu/fsfreeze-hook\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = quiesce(t, cfg, "check", "--all", "--root", root)
	if r.code != ExitOK || !strings.Contains(r.stdout, "qemu-ga runs /etc/qemu/fsfreeze-hook (fsfreeze-hook in /etc/qemu/qemu-ga.conf)") ||
		!strings.Contains(r.stdout, "quiesce is installed at /etc/qemu/fsfreeze-hook.d/50-quiesce\n") {
		t.Fatalf("check: %+v", r)
	}
}
