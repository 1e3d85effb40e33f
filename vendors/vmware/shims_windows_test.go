package vmware

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/quiesce/quiesce/scripts"
	"github.com/quiesce/quiesce/vendors/hook"
)

// With SHIM_TEST_ARGS set, the test binary stands in for quiesce behind
// the batch shims: it writes the arguments it got, one a line, to that
// file and exits with $SHIM_TEST_EXIT.
func TestMain(m *testing.M) {
	if out := os.Getenv("SHIM_TEST_ARGS"); out != "" {
		_ = os.WriteFile(out, []byte(strings.Join(os.Args[1:], "\n")), 0o644)
		code := 0
		if os.Getenv("SHIM_TEST_EXIT") == "3" {
			code = 3
		}
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// shim installs a rendered shim in dir (a path with spaces, as Program
// Files) calling a copy of the test binary.
func shim(t *testing.T, dir, name, tmpl string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	fake := filepath.Join(dir, "fake quiesce.exe")
	if _, err := os.Stat(fake); err != nil {
		b, err := os.ReadFile(self)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fake, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, name)
	if _, err := hook.InstallFile(path, hook.Render(scripts.Read(tmpl), fake)); err != nil {
		t.Fatal(err)
	}
	return path
}

// runShim runs a shim as VMware Tools does (cmd /c SCRIPT ARGS) and
// returns the arguments quiesce got and the exit code.
func runShim(t *testing.T, path string, exit string, args ...string) ([]string, int) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "args")
	cmd := exec.Command("cmd", append([]string{"/c", path}, args...)...)
	cmd.Env = append(os.Environ(), "SHIM_TEST_ARGS="+out, "SHIM_TEST_EXIT="+exit)
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("quiesce was not called: %v", err)
	}
	return strings.Split(string(b), "\n"), cmd.ProcessState.ExitCode()
}

// The shims pass VMware's operation word and scriptArg through to quiesce
// (the legacy scripts used to pass %1 as the job and lose %2), and return
// quiesce's exit code.
func TestBatchShimsPassArguments(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "VMware Tools")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pre := shim(t, dir, "pre-freeze-script.bat", "vmware/pre-freeze-script.bat")
	post := shim(t, dir, "post-thaw-script.bat", "vmware/post-thaw-script.bat")
	hookCmd, _ := hookFile(filepath.Join(dir, "backupScripts.d"))
	if _, err := Install(filepath.Dir(hookCmd), filepath.Join(dir, "fake quiesce.exe")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		script string
		args   []string
		want   []string
	}{
		{pre, []string{"freeze"}, []string{"vmware", "freeze"}},
		{pre, []string{"freeze", "nightly"}, []string{"vmware", "freeze", "nightly"}},
		{pre, nil, []string{"vmware", "freeze"}},
		{post, []string{"thaw"}, []string{"vmware", "thaw"}},
		{post, []string{"freezeFail", "nightly"}, []string{"vmware", "freezeFail", "nightly"}},
		{post, nil, []string{"vmware", "thaw"}},
		{hookCmd, []string{"freeze"}, []string{"vmware", "freeze"}},
		{hookCmd, []string{"freezeFail", "nightly"}, []string{"vmware", "freezeFail", "nightly"}},
		{hookCmd, []string{"thaw", "nightly"}, []string{"vmware", "thaw", "nightly"}},
	}
	for _, c := range cases {
		got, code := runShim(t, c.script, "0", c.args...)
		if !slices.Equal(got, c.want) || code != 0 {
			t.Errorf("%s %v: quiesce got %q, exit %d", filepath.Base(c.script), c.args, got, code)
		}
	}
	for _, s := range []string{pre, post, hookCmd} {
		if _, code := runShim(t, s, "3", "freeze"); code != 3 {
			t.Errorf("%s: exit %d, want quiesce's 3", filepath.Base(s), code)
		}
	}
}
