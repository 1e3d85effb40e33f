package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/windows/registry"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/vendors/vmware"
)

// setToolsInstallPath points the registry's VMware Tools InstallPath at
// dir ("" deletes the value) and restores the previous value afterwards.
func setToolsInstallPath(t *testing.T, dir string) {
	t.Helper()
	k, _, err := registry.CreateKey(registry.LOCAL_MACHINE, vmware.ToolsKey, registry.ALL_ACCESS)
	if err != nil {
		t.Fatalf("registry: %v", err)
	}
	defer k.Close()
	old, _, oldErr := k.GetStringValue(vmware.InstallPathValue)
	t.Cleanup(func() {
		k, err := registry.OpenKey(registry.LOCAL_MACHINE, vmware.ToolsKey, registry.SET_VALUE)
		if err != nil {
			return
		}
		defer k.Close()
		if oldErr == nil {
			_ = k.SetStringValue(vmware.InstallPathValue, old)
		} else {
			_ = k.DeleteValue(vmware.InstallPathValue)
		}
	})
	if dir == "" {
		if err := k.DeleteValue(vmware.InstallPathValue); err != nil && !errors.Is(err, registry.ErrNotExist) {
			t.Fatal(err)
		}
		return
	}
	if err := k.SetStringValue(vmware.InstallPathValue, dir); err != nil {
		t.Fatal(err)
	}
}

// testConfig writes a configuration a hook can be installed with.
func testConfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "quiesce.conf")
	body := "[target app]\nmanager = service\nservice = quiesce-test-app\nprocess_path = C:\\app\nready_tcp = 127.0.0.1:1\n\n[freeze]\nstate_dir = " + filepath.Join(filepath.Dir(path), "state") + "\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runBinary runs quiesce with a %ProgramData% of the test's own, so that
// its default state and log (and the log of a hook install runs to check
// it) are never the host's.
func runBinary(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "ProgramData="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil && cmd.ProcessState == nil {
		t.Fatal(err)
	}
	return string(out), cmd.ProcessState.ExitCode()
}

// quiesce install vmware puts the hook into backupScripts.d of the folder
// the registry names (with spaces, CRLF kept), uninstall removes it; with
// no registry value both fall back to the default folder and say so.
func TestInstallVMwareOnWindowsUsesTheRegistry(t *testing.T) {
	bin := simtest.Binary(t, "quiesce")
	cfg := testConfig(t)
	tools := filepath.Join(t.TempDir(), "VMware Tools")
	setToolsInstallPath(t, tools)
	hookPath := filepath.Join(tools, "backupScripts.d", vmware.HookName+".cmd")

	out, code := runBinary(t, bin, "--config", cfg, "install", "vmware")
	if code != 0 || !strings.Contains(out, "(from registry HKLM\\"+vmware.ToolsKey) || !strings.Contains(out, "installed: "+hookPath) {
		t.Fatalf("install: exit %d\n%s", code, out)
	}
	body, err := os.ReadFile(hookPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(body, []byte(`"`+bin+`"`)) || !bytes.Contains(body, []byte(` vmware %*`+"\r\n")) || bytes.Contains(bytes.ReplaceAll(body, []byte("\r\n"), nil), []byte("\n")) {
		t.Fatalf("hook does not call %s with CRLF lines:\n%q", bin, body)
	}
	if out, code := runBinary(t, bin, "--config", cfg, "install", "vmware"); code != 0 || !strings.Contains(out, "already installed: "+hookPath) {
		t.Fatalf("second install: exit %d\n%s", code, out)
	}
	if out, code := runBinary(t, bin, "uninstall", "vmware"); code != 0 || !strings.Contains(out, "removed: "+hookPath) {
		t.Fatalf("uninstall: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(hookPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("hook still there: %v", err)
	}

	setToolsInstallPath(t, "")
	fallback := filepath.Join(vmware.FallbackWindowsDir, vmware.HookName+".cmd")
	if out, code := runBinary(t, bin, "uninstall", "vmware"); code != 0 || !strings.Contains(out, "(from the default") || !strings.Contains(out, "not installed: "+fallback) {
		t.Fatalf("uninstall without the registry value: exit %d\n%s", code, out)
	}
}

// --legacy puts pre-freeze-script.bat and post-thaw-script.bat in place
// (here in --dir instead of the Windows folder) and removes them.
func TestInstallVMwareLegacyScripts(t *testing.T) {
	bin := simtest.Binary(t, "quiesce")
	dir := t.TempDir()
	out, code := runBinary(t, bin, "--config", testConfig(t), "install", "vmware", "--legacy", "--dir", dir)
	for _, name := range []string{"pre-freeze-script.bat", "post-thaw-script.bat"} {
		path := filepath.Join(dir, name)
		body, err := os.ReadFile(path)
		if code != 0 || !strings.Contains(out, "installed: "+path) || err != nil || !bytes.Contains(body, []byte(`"`+bin+`"`)) || !bytes.Contains(body, []byte(` vmware %1 %2`+"\r\n")) {
			t.Fatalf("install --legacy: exit %d\n%s\n%s: %q %v", code, out, name, body, err)
		}
	}
	out, code = runBinary(t, bin, "uninstall", "vmware", "--legacy", "--dir", dir)
	if entries, _ := os.ReadDir(dir); code != 0 || len(entries) != 0 || strings.Count(out, "removed: ") != 2 {
		t.Fatalf("uninstall --legacy: exit %d, left %v\n%s", code, entries, out)
	}
}

// install veeam on Windows writes the scripts beside quiesce's other files,
// %ProgramData%\quiesce\veeam (not a Linux path), says where, and
// uninstall removes them from there.
func TestInstallVeeamOnWindowsUsesProgramData(t *testing.T) {
	bin := simtest.Binary(t, "quiesce")
	cfg := testConfig(t)
	data := t.TempDir()
	env := append(os.Environ(), "ProgramData="+data)
	quiesce := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil && cmd.ProcessState == nil {
			t.Fatal(err)
		}
		return string(out), cmd.ProcessState.ExitCode()
	}
	dir := filepath.Join(data, "quiesce", "veeam")
	out, code := quiesce("--config", cfg, "install", "veeam")
	if code != 0 || !strings.Contains(out, "The scripts are in "+dir+":") {
		t.Fatalf("install veeam: exit %d, want the scripts in %s\n%s", code, dir, out)
	}
	for _, name := range []string{"pre-freeze.cmd", "post-thaw.cmd"} {
		if body, err := os.ReadFile(filepath.Join(dir, name)); err != nil || !bytes.Contains(body, []byte(`"`+bin+`"`)) {
			t.Errorf("%s: %v\n%s", name, err, body)
		}
	}
	if strings.Contains(out, "/usr/") {
		t.Errorf("install veeam names a Linux path:\n%s", out)
	}
	if out, code := quiesce("uninstall", "veeam"); code != 0 || strings.Count(out, "removed: "+dir+`\`) != 2 {
		t.Fatalf("uninstall veeam: exit %d\n%s", code, out)
	}
	if out, _ := quiesce("install", "veeam", "--help"); !strings.Contains(out, `(default: `+dir+`)`) {
		t.Errorf("install veeam --help does not name %s:\n%s", dir, out)
	}
}
