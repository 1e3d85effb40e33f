package simtest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// Main runs a package's tests (the body of its TestMain), removes the
// binaries built for them, and fails the run when the host's own quiesce
// state directory, log or hook folders changed meanwhile: no test may
// read or write them (every test gets its own), least of all while a real
// freeze may be in place on a machine that runs the suite as root.
func Main(m *testing.M) int {
	// No quiesce a test starts may start services of the host's systemd
	// (the watchdog's supervisor); a test of it runs its own systemd.
	os.Setenv("QUIESCE_TEST_NO_SUPERVISOR", "1")
	before := hostPrint()
	code := m.Run()
	Cleanup()
	if after := hostPrint(); after != before {
		fmt.Fprintf(os.Stderr, "FAIL: the tests changed the host's own quiesce files (state, log or hooks); every test must use its own:\n%s\n", diffLines(before, after))
		if code == 0 {
			code = 1
		}
	}
	return code
}

// hostPaths are where an installed quiesce keeps its state and log, and
// where callers look for its hooks.
func hostPaths() []string {
	if runtime.GOOS == "windows" {
		return []string{filepath.Join(os.Getenv("ProgramData"), "quiesce"), `C:\Windows\pre-freeze-script.bat`, `C:\Windows\post-thaw-script.bat`}
	}
	return []string{"/var/lib/quiesce", "/var/log/quiesce", "/etc/vmware-tools/backupScripts.d", "/usr/sbin/pre-freeze-script",
		"/usr/sbin/post-thaw-script", "/etc/qemu/fsfreeze-hook", "/etc/qemu/fsfreeze-hook.d", "/etc/qemu-ga", "/usr/local/share/quiesce",
		"/usr/local/sbin/pre_freeze", "/usr/local/sbin/post_thaw", "/etc/google/snapshots", "/etc/azure/VMSnapshotScriptPluginConfig.json"}
}

// hostPrint describes the host paths: every file and directory under
// them with its size and modification time.
func hostPrint() string {
	var lines []string
	for _, root := range hostPaths() {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				lines = append(lines, path+": "+shortErr(err))
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return nil
			}
			lines = append(lines, fmt.Sprintf("%s %s %d %s", path, info.Mode(), info.Size(), info.ModTime().UTC().Format("2006-01-02T15:04:05.000000000")))
			return nil
		})
		if err != nil {
			lines = append(lines, root+": "+shortErr(err))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func shortErr(err error) string {
	if os.IsNotExist(err) {
		return "absent"
	}
	return err.Error()
}

// diffLines lists the lines only one of a and b has.
func diffLines(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for l := range ma {
		if !mb[l] {
			out = append(out, "  before: "+l)
		}
	}
	for l := range mb {
		if !ma[l] {
			out = append(out, "  after:  "+l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// Slow leaves a test out of the short tier (go test -short, make
// test-short): one that waits for deadlines, soaks, or plays a caller
// through every scenario. The full tier, and CI, run it.
func Slow(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("slow: not in the short tier (go test without -short runs it)")
	}
}
