//go:build linux

package qemu

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// stockHook is the hook qemu-ga's packages ship: it runs fsfreeze-hook.d.
const stockHook = "#!/bin/sh\nFSFREEZE_D=$(dirname -- \"$0\")/fsfreeze-hook.d\nexit 0\n"

// tree writes files under a temporary root.
func tree(t *testing.T, files map[string]string) string {
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

// RHEL, Rocky, Alma: the unit passes -F${FSFREEZE_HOOK_PATHNAME} from
// /etc/sysconfig/qemu-ga; the stock hook is /etc/qemu-ga/fsfreeze-hook.
var rhel = map[string]string{
	"/usr/lib/systemd/system/qemu-guest-agent.service": "[Service]\nEnvironmentFile=/etc/sysconfig/qemu-ga\nExecStart=/usr/bin/qemu-ga \\\n  --method=virtio-serial \\\n  --path=/dev/virtio-ports/org.qemu.guest_agent.0 \\\n  --blacklist=${BLACKLIST_RPC} \\\n  -F${FSFREEZE_HOOK_PATHNAME}\n",
	"/etc/sysconfig/qemu-ga":                           "# This is a systemd environment file\nBLACKLIST_RPC=guest-file-open\nFSFREEZE_HOOK_PATHNAME=/etc/qemu-ga/fsfreeze-hook\n",
	"/etc/qemu-ga/fsfreeze-hook":                       stockHook,
	"/etc/qemu-ga/fsfreeze-hook.d/":                    "",
	"/etc/selinux/config":                              "SELINUX=enforcing\nSELINUXTYPE=targeted\n",
}

// Debian, Ubuntu: the unit starts qemu-ga without -F, so it runs no hook
// unless qemu-ga.conf sets one; the stock hook is /etc/qemu/fsfreeze-hook.
var debian = map[string]string{
	"/lib/systemd/system/qemu-guest-agent.service": "[Service]\nExecStart=-/usr/sbin/qemu-ga\nRestart=always\n",
	"/etc/qemu/fsfreeze-hook":                      stockHook,
}

func without(m map[string]string, drop string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if k != drop && !strings.HasSuffix(k, "/") {
			out[k] = v
		}
	}
	return out
}

func TestLocateRHEL(t *testing.T) {
	root := tree(t, without(rhel, ""))
	l := Locator{Root: root}.Locate()
	if l.Hook != RHELHook || !l.Enabled || !l.Known || !strings.Contains(l.Source, "FSFREEZE_HOOK_PATHNAME in /etc/sysconfig/qemu-ga") {
		t.Fatalf("%+v", l)
	}
	s, err := Plan(root, l, "")
	if err != nil || s.Path != "/etc/qemu-ga/fsfreeze-hook.d/50-quiesce" || !s.Stock {
		t.Fatalf("plan %+v %v", s, err)
	}
	lines, err := s.Apply("/usr/local/sbin/quiesce")
	if err != nil || lines[0] != "installed: /etc/qemu-ga/fsfreeze-hook.d/50-quiesce" ||
		!strings.Contains(strings.Join(lines, "\n"), "qemu-ga runs /etc/qemu-ga/fsfreeze-hook (FSFREEZE_HOOK_PATHNAME in /etc/sysconfig/qemu-ga") ||
		!strings.Contains(strings.Join(lines, "\n"), "SELinux: run 'restorecon -v /etc/qemu-ga/fsfreeze-hook.d/50-quiesce'") {
		t.Fatalf("install: %q %v", lines, err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "/etc/qemu-ga/fsfreeze-hook.d/50-quiesce")); err != nil || !strings.Contains(string(b), "/usr/local/sbin/quiesce") {
		t.Fatalf("hook file: %s %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(root, "/etc/qemu/fsfreeze-hook")); err == nil {
		t.Fatal("installed where qemu-ga on RHEL never looks")
	}
	lines, err = Remove(root, l, "")
	if err != nil || !slices.Equal(lines, []string{"removed: /etc/qemu-ga/fsfreeze-hook.d/50-quiesce"}) {
		t.Fatalf("uninstall: %q %v", lines, err)
	}
	// FSFREEZE_HOOK_PATHNAME=/dev/null disables the hook: say so.
	root = tree(t, without(rhel, ""))
	if err := os.WriteFile(filepath.Join(root, SysconfigFile), []byte("FSFREEZE_HOOK_PATHNAME=/dev/null\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if l := (Locator{Root: root}).Locate(); l.Enabled || !strings.Contains(l.Reason, "/dev/null") {
		t.Fatalf("disabled: %+v", l)
	}
}

func TestLocateDebian(t *testing.T) {
	root := tree(t, debian)
	l := Locator{Root: root}.Locate()
	if l.Hook != DefaultHook || l.Enabled || !l.Known || !strings.Contains(l.Reason, "started without -F") {
		t.Fatalf("%+v", l)
	}
	s, err := Plan(root, l, "")
	if err != nil || s.Path != "/etc/qemu/fsfreeze-hook.d/50-quiesce" {
		t.Fatalf("plan %+v %v", s, err)
	}
	lines, err := s.Apply("/usr/local/sbin/quiesce")
	if err != nil || !strings.Contains(strings.Join(lines, "\n"), "enabled the hook: wrote /etc/qemu/qemu-ga.conf") {
		t.Fatalf("install: %q %v", lines, err)
	}
	// qemu-ga.conf now enables the hook: found as such.
	if l := (Locator{Root: root}).Locate(); !l.Enabled || l.Hook != DefaultHook || l.Source != "fsfreeze-hook in "+ConfFile {
		t.Fatalf("after enabling: %+v", l)
	}
	lines, err = Remove(root, l, "")
	if err != nil || len(lines) != 2 || !strings.HasPrefix(lines[1], "removed: /etc/qemu/qemu-ga.conf") {
		t.Fatalf("uninstall: %q %v", lines, err)
	}
	// An administrator's qemu-ga.conf is never rewritten: install says what to add.
	if err := os.WriteFile(filepath.Join(root, ConfFile), []byte("[general]\nverbose=true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, _ = Plan(root, Locator{Root: root}.Locate(), "")
	if lines, err := s.Apply("/q"); err != nil || !strings.Contains(strings.Join(lines, "\n"), "WARNING: qemu-ga is started without -F") {
		t.Fatalf("own qemu-ga.conf: %q %v", lines, err)
	}
}

// -F in a drop-in or the unit wins over qemu-ga.conf; a free hook path is
// used directly (a failed freeze then fails guest-fsfreeze-freeze); a hook
// that runs no fsfreeze-hook.d is left alone with an error.
func TestLocateOverridesAndForeignHooks(t *testing.T) {
	root := tree(t, map[string]string{
		"/lib/systemd/system/qemu-guest-agent.service":                 "[Service]\nExecStart=-/usr/sbin/qemu-ga\n",
		"/etc/systemd/system/qemu-guest-agent.service.d/override.conf": "[Service]\nExecStart=\nExecStart=/usr/sbin/qemu-ga --fsfreeze-hook=/opt/hooks/qga\n",
		"/etc/qemu/qemu-ga.conf":                                       "[general]\nfsfreeze-hook=/etc/qemu/other\n",
	})
	l := Locator{Root: root}.Locate()
	if l.Hook != "/opt/hooks/qga" || !l.Enabled {
		t.Fatalf("%+v", l)
	}
	s, err := Plan(root, l, "")
	if err != nil || s.Path != "/opt/hooks/qga" || s.Stock {
		t.Fatalf("free hook: %+v %v", s, err)
	}
	if lines, err := s.Apply("/q"); err != nil || lines[0] != "installed: /opt/hooks/qga" || !strings.Contains(lines[1], "a failed freeze fails guest-fsfreeze-freeze") {
		t.Fatalf("install as the hook: %q %v", lines, err)
	}
	if lines, err := Remove(root, l, ""); err != nil || lines[0] != "removed: /opt/hooks/qga" {
		t.Fatalf("uninstall: %q %v", lines, err)
	}
	if err := os.WriteFile(filepath.Join(root, "/opt/hooks/qga"), []byte("#!/bin/sh\nlogger frozen\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Plan(root, l, ""); !errors.Is(err, ErrForeignHook) {
		t.Fatalf("foreign hook: %v", err)
	}
	// A bare -F runs the compiled-in default, as the installed qemu-ga says.
	root = tree(t, map[string]string{"/lib/systemd/system/qemu-guest-agent.service": "[Service]\nExecStart=/usr/sbin/qemu-ga -F\n"})
	if l := (Locator{Root: root, CompiledDefault: func() string { return "/etc/qemu-kvm/fsfreeze-hook" }}).Locate(); l.Hook != "/etc/qemu-kvm/fsfreeze-hook" || !l.Enabled {
		t.Fatalf("bare -F: %+v", l)
	}
}

// The installed qemu-ga, when there is one, names its compiled-in default.
func TestAskQemuGA(t *testing.T) {
	if _, err := os.Stat("/usr/sbin/qemu-ga"); err != nil {
		t.Skip("qemu-ga is not installed")
	}
	if got := askQemuGA(); got != DefaultHook {
		t.Fatalf("qemu-ga -D -F names %q", got)
	}
}
