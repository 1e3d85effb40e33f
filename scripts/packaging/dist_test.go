//go:build linux && packaging

package packaging

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"debug/pe"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/scripts"
	"github.com/quiesce/quiesce/vendors/hook"
)

// built is one "make dist" for the whole test binary, into a temp dir.
type built struct {
	dir                 string // DIST
	version, pkgVersion string // what quiesce prints, the packages' version
	err                 error
	out                 string
}

var (
	distOnce sync.Once
	dist     built
	distRoot string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if distRoot != "" {
		os.RemoveAll(distRoot)
	}
	os.Exit(code)
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// makeDist runs "make dist" once (nfpm, three binaries, the packages).
func makeDist(t *testing.T) built {
	t.Helper()
	_, err := exec.LookPath("make")
	simtest.Require(t, err == nil, "make is not installed")
	_, err = exec.LookPath("zip")
	simtest.Require(t, err == nil, "zip is not installed (.ci/run installs it)")
	root := repoRoot(t)
	distOnce.Do(func() {
		if distRoot, dist.err = os.MkdirTemp("", "quiesce-dist-"); dist.err != nil {
			return
		}
		dist.dir = distRoot
		var out []byte
		out, dist.err = exec.Command("make", "-s", "-C", root, "dist-version").Output()
		if f := strings.Fields(string(out)); dist.err == nil && len(f) == 2 {
			dist.version, dist.pkgVersion = f[0], f[1]
		}
		// The version dist-version printed: a commit in between changes
		// nothing. The Linux packages are built where the Windows tools
		// are not (they must not need them), the Windows ones after.
		var tools string
		if tools, dist.err = pathWithout(distRoot, windowsTools...); dist.err != nil {
			return
		}
		linux := exec.Command("make", "-s", "-C", root, "dist-linux", "DIST="+distRoot, "VERSION="+dist.version)
		linux.Env = append(os.Environ(), "PATH="+tools)
		out, err := linux.CombinedOutput()
		dist.out = string(out)
		if err != nil {
			dist.err = fmt.Errorf("make dist-linux without %v: %w", windowsTools, err)
			return
		}
		out, err = exec.Command("make", "-s", "-C", root, "dist-windows", "DIST="+distRoot, "VERSION="+dist.version).CombinedOutput()
		dist.out += string(out)
		if dist.err == nil && err != nil {
			dist.err = fmt.Errorf("make dist-windows: %w", err)
		}
	})
	if dist.err != nil || dist.pkgVersion == "" {
		t.Fatalf("make dist: %v (version %q)\n%s", dist.err, dist.pkgVersion, dist.out)
	}
	return dist
}

// What only the Windows packages need (dist-windows, so dist).
var windowsTools = []string{"zip", "wixl", "wixl-heat", "msibuild", "msiinfo"}

// pathWithout is a PATH that finds every command this one does but the
// named ones: a directory under dir of links to the rest.
func pathWithout(dir string, hide ...string) (string, error) {
	bin, err := os.MkdirTemp(dir, "path-")
	if err != nil {
		return "", err
	}
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			link := filepath.Join(bin, e.Name())
			if contains(hide, e.Name()) {
				continue
			}
			if _, err := os.Lstat(link); err == nil {
				continue // an earlier directory of PATH has it
			}
			if err := os.Symlink(filepath.Join(d, e.Name()), link); err != nil {
				return "", err
			}
		}
	}
	return bin, nil
}

// Without the MSI tools, "make dist" and "make dist-windows" say which
// tools are missing, which Debian packages bring them and, for dist, that
// dist-linux needs none of them; they build nothing.
func TestDistNamesMissingTools(t *testing.T) {
	_, err := exec.LookPath("make")
	simtest.Require(t, err == nil, "make is not installed")
	root := repoRoot(t)
	dir := t.TempDir()
	path, err := pathWithout(dir, "wixl", "wixl-heat", "msibuild", "msiinfo")
	if err != nil {
		t.Fatal(err)
	}
	for target, want := range map[string]string{
		"dist":         "make dist: the Windows packages need wixl wixl-heat msibuild msiinfo, not installed (apt-get install wixl msitools); the Linux packages alone need neither: make dist-linux\n",
		"dist-windows": "make dist-windows: the Windows packages need wixl wixl-heat msibuild msiinfo, not installed (apt-get install wixl msitools)\n",
	} {
		out := filepath.Join(dir, target)
		cmd := exec.Command("make", "-s", "-C", root, target, "DIST="+out, "VERSION=v1.0.0")
		cmd.Env = append(os.Environ(), "PATH="+path)
		got, err := cmd.CombinedOutput()
		if err == nil || !strings.HasPrefix(string(got), want) {
			t.Errorf("make %s without wixl and msitools: %v\n%s\nwant the line\n%s", target, err, got, want)
		}
		if entries, _ := os.ReadDir(out); len(entries) > 0 {
			t.Errorf("make %s without wixl built something in %s", target, out)
		}
	}
}

// "GOOS=windows make build" writes quiesce.exe and simdomino.exe.
func TestMakeBuildWindowsExe(t *testing.T) {
	_, err := exec.LookPath("make")
	simtest.Require(t, err == nil, "make is not installed")
	bin := t.TempDir()
	cmd := exec.Command("make", "-s", "-C", repoRoot(t), "build", "BIN="+bin)
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=windows make build: %v\n%s", err, out)
	}
	var names []string
	entries, _ := os.ReadDir(bin)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != "quiesce.exe simdomino.exe" {
		t.Fatalf("GOOS=windows make build wrote %q, want quiesce.exe simdomino.exe", got)
	}
	for _, n := range names {
		f, err := pe.Open(filepath.Join(bin, n))
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		f.Close()
	}
}

// pkg is the path of one package make dist built.
func (b built) pkg(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(b.dir, name)
	if _, err := os.Stat(path); err != nil {
		entries, _ := os.ReadDir(b.dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("make dist did not build %s (it built %v)\n%s", name, names, b.out)
	}
	return path
}

func (b built) deb(t *testing.T, arch string) string {
	return b.pkg(t, "quiesce_"+b.pkgVersion+"-1_"+arch+".deb")
}

func (b built) rpm(t *testing.T, arch string) string {
	return b.pkg(t, "quiesce-"+b.pkgVersion+"-1."+arch+".rpm")
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "MANPAGER=cat", "PAGER=cat", "MANWIDTH=100")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// What each Linux package installs, and nothing else (directories aside).
var packaged = []string{
	"/usr/sbin/quiesce",
	"/usr/lib/systemd/system/domino.service",
	"/usr/lib/systemd/system/quiesce-recover.service",
	"/etc/quiesce/quiesce.conf",
	"/usr/share/man/man8/quiesce.8.gz",
	"/usr/share/bash-completion/completions/quiesce",
	"/usr/share/doc/quiesce/README.md",
	"/usr/share/doc/quiesce/configuration.md",
	"/usr/share/doc/quiesce/examples/domino-linux.conf",
	"/usr/share/quiesce/fleet/quiesce-alerts.yml",
	"/usr/share/quiesce/fleet/quiesce-alerts.test.yml",
	"/usr/share/quiesce/fleet/quiesce-dashboard.json",
}

const conffile = "/etc/quiesce/quiesce.conf"

// The versions follow git describe; a package version starts with a digit
// and a build after a tag sorts after it.
func TestDistVersion(t *testing.T) {
	root := repoRoot(t)
	for in, want := range map[string]string{
		"v1.4.0":                  "1.4.0",
		"v1.4.0-3-gabc1234":       "1.4.0+3.gabc1234",
		"v1.4.0-3-gabc1234-dirty": "1.4.0+3.gabc1234.dirty",
		"1.4.0":                   "1.4.0",
		"dev":                     "0.0.0+git",
		"135adb9-dirty":           "0.0.0+git",
	} {
		out := run(t, "make", "-s", "-C", root, "dist-version", "VERSION="+in)
		f := strings.Fields(out)
		if len(f) != 2 || f[0] != in || !strings.HasPrefix(f[1], want) {
			t.Errorf("VERSION=%s: got %q, want the package version %s...", in, out, want)
		}
		if want == "0.0.0+git" && !strings.HasSuffix(f[1], "."+strings.ReplaceAll(in, "-", ".")) {
			t.Errorf("VERSION=%s: package version %s lacks the commit", in, f[1])
		}
	}
	if _, err := exec.LookPath("dpkg"); err == nil {
		// dpkg's own ordering: untagged < tag < a build after the tag.
		for _, c := range [][2]string{{"0.0.0+git138.135adb9", "1.4.0"}, {"1.4.0", "1.4.0+3.gabc1234"}, {"0.0.0+git9.a", "0.0.0+git10.b"}} {
			if err := exec.Command("dpkg", "--compare-versions", c[0], "lt", c[1]).Run(); err != nil {
				t.Errorf("dpkg does not sort %s before %s", c[0], c[1])
			}
		}
	}
}

// The shipped example configuration is all comments (so that it does not
// shadow an rc_domino_config), and once uncommented it is a valid
// configuration: it cannot drift from the format.
func TestExampleConfig(t *testing.T) {
	b, err := os.ReadFile("quiesce.conf")
	if err != nil {
		t.Fatal(err)
	}
	var uncommented []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			t.Errorf("example: not a comment: %q", line)
		}
		if setting := strings.TrimPrefix(line, "# "); setting != line && (strings.HasPrefix(setting, "[") || strings.Contains(setting, " = ")) {
			uncommented = append(uncommented, setting)
		}
	}
	if len(uncommented) < 8 {
		t.Fatalf("example: only %d settings", len(uncommented))
	}
	cfg, err := config.ParseNative("quiesce.conf", []byte(strings.Join(uncommented, "\n")+"\n"))
	if err != nil {
		t.Fatalf("example uncommented: %v", err)
	}
	if !cfg.HasDomino || cfg.Domino.User != "notes" {
		t.Errorf("example uncommented: %+v", cfg.Domino)
	}
}

// The .deb installs for real: dpkg -i, then the binary, the man page, the
// completion and the units are in place; nothing is enabled or started (no
// maintainer scripts at all); dpkg -r leaves only the admin's config, a
// reinstall keeps the admin's edit, dpkg -P removes the config too.
func TestDebInstallsForReal(t *testing.T) {
	simtest.Require(t, os.Geteuid() == 0, "installing the .deb needs root (CI runs as root)")
	_, err := exec.LookPath("dpkg")
	simtest.Require(t, err == nil, "dpkg is not installed")
	_, err = exec.LookPath("man")
	simtest.Require(t, err == nil, "man is not installed (.ci/run installs man-db)")
	arch := map[string]string{"amd64": "amd64", "arm64": "arm64"}[runtime.GOARCH]
	simtest.Require(t, arch != "", "no package for this machine's architecture "+runtime.GOARCH)
	// Never clobber a quiesce this machine already has.
	for _, p := range []string{"/usr/sbin/quiesce", "/etc/quiesce"} {
		_, err := os.Lstat(p)
		simtest.Require(t, os.IsNotExist(err), p+" exists on this machine: not installing the .deb over it")
	}
	if exec.Command("dpkg-query", "-W", "quiesce").Run() == nil {
		simtest.Require(t, false, "a quiesce package is installed on this machine")
	}
	b := makeDist(t)
	deb := b.deb(t, arch)

	// Nothing the package manager would run on install, upgrade or removal.
	ctrl := run(t, "dpkg-deb", "--ctrl-tarfile", deb)
	_ = ctrl
	members := run(t, "sh", "-c", `dpkg-deb --ctrl-tarfile "$1" | tar -t`, "sh", deb)
	for _, m := range strings.Fields(members) {
		switch strings.TrimPrefix(m, "./") {
		case "", "control", "md5sums", "conffiles":
		default:
			t.Errorf("the .deb has a maintainer script or trigger: %s", m)
		}
	}

	t.Cleanup(func() { exec.Command("dpkg", "-P", "quiesce").Run() })
	run(t, "dpkg", "-i", deb)
	if got := run(t, "dpkg-query", "-W", "-f", "${Version} ${Architecture} ${db:Status-Abbrev}", "quiesce"); got != b.pkgVersion+"-1 "+arch+" ii " {
		t.Errorf("dpkg-query: %q", got)
	}
	if got := run(t, "/usr/sbin/quiesce", "version"); got != "quiesce "+b.version+"\n" {
		t.Errorf("quiesce version: %q, want %q", got, "quiesce "+b.version)
	}
	if got := strings.TrimSpace(run(t, "man", "-w", "quiesce")); got != "/usr/share/man/man8/quiesce.8.gz" {
		t.Errorf("man -w quiesce: %q", got)
	}
	if page := run(t, "man", "8", "quiesce"); !strings.Contains(page, "domino-backup") || !strings.Contains(page, "EXIT STATUS") || !strings.Contains(page, b.version) {
		t.Errorf("man quiesce:\n%s", page)
	}
	// The installed bash completion completes through bash itself.
	got := run(t, "bash", "-c", `source /usr/share/bash-completion/completions/quiesce; COMP_WORDS=(quiesce install ""); COMP_CWORD=2; _quiesce; echo "${COMPREPLY[@]}"`)
	if !strings.Contains(got, "vmware") || !strings.Contains(got, "arcserve") {
		t.Errorf("bash completion of 'quiesce install ': %q", got)
	}
	if _, err := os.Stat("/usr/share/zsh/vendor-completions/_quiesce"); err != nil {
		t.Error(err)
	}
	files := strings.Fields(run(t, "dpkg", "-L", "quiesce"))
	for _, f := range packaged {
		if !contains(files, f) {
			t.Errorf("dpkg -L quiesce lacks %s", f)
		}
	}
	if got := run(t, "dpkg-query", "-W", "-f", "${Conffiles}", "quiesce"); !strings.Contains(got, conffile+" ") {
		t.Errorf("conffiles: %q", got)
	}
	// The units are in place, run the packaged binary, and are not enabled.
	for _, unit := range []string{"domino.service", "quiesce-recover.service"} {
		body, err := os.ReadFile("/usr/lib/systemd/system/" + unit)
		if err != nil || !strings.Contains(string(body), "ExecStart=/usr/sbin/quiesce ") || strings.Contains(string(body), "/usr/local/") {
			t.Errorf("%s as installed: %v\n%s", unit, err, body)
		}
		if state, _ := exec.Command("systemctl", "is-enabled", unit).Output(); strings.TrimSpace(string(state)) != "disabled" {
			t.Errorf("systemctl is-enabled %s: %q, want disabled", unit, state)
		}
	}
	filepath.WalkDir("/etc/systemd", func(path string, d fs.DirEntry, err error) error {
		if err == nil && (d.Name() == "domino.service" || d.Name() == "quiesce-recover.service") {
			t.Errorf("installing the package enabled or linked a unit: %s", path)
		}
		return nil
	})

	// The admin edits the configuration; removal keeps it and nothing else.
	edited := append(readFile(t, conffile), []byte("# edited by the admin\n")...)
	if err := os.WriteFile(conffile, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "dpkg", "-r", "quiesce")
	if got := run(t, "dpkg-query", "-W", "-f", "${db:Status-Abbrev}", "quiesce"); got != "rc " {
		t.Errorf("after dpkg -r: status %q, want rc (config files left)", got)
	}
	for _, f := range files {
		if f == conffile || f == "/etc/quiesce" || isSharedDir(f) {
			continue
		}
		if _, err := os.Lstat(f); err == nil {
			t.Errorf("dpkg -r left %s", f)
		}
	}
	if !bytes.Equal(readFile(t, conffile), edited) {
		t.Errorf("dpkg -r changed the admin's %s", conffile)
	}
	// A reinstall (or an upgrade) keeps the admin's edit.
	run(t, "dpkg", "-i", deb)
	if !bytes.Equal(readFile(t, conffile), edited) {
		t.Errorf("reinstalling replaced the admin's %s", conffile)
	}
	run(t, "dpkg", "-P", "quiesce")
	for _, p := range []string{conffile, "/etc/quiesce", "/usr/sbin/quiesce", "/usr/share/doc/quiesce"} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("dpkg -P left %s", p)
		}
	}
	if exec.Command("dpkg-query", "-W", "quiesce").Run() == nil {
		if got := run(t, "dpkg-query", "-W", "-f", "${db:Status-Abbrev}", "quiesce"); got != "un " {
			t.Errorf("after dpkg -P: status %q", got)
		}
	}
}

// isSharedDir is a directory other packages own too (dpkg leaves it).
func isSharedDir(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.IsDir() && !strings.Contains(path, "quiesce")
}

// Both .debs hold the same files; each binary is a static executable for
// its architecture.
func TestDebArchitectures(t *testing.T) {
	_, err := exec.LookPath("dpkg-deb")
	simtest.Require(t, err == nil, "dpkg-deb is not installed")
	b := makeDist(t)
	var lists []string
	for arch, machine := range map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64} {
		deb := b.deb(t, arch)
		if got := strings.TrimSpace(run(t, "dpkg-deb", "-f", deb, "Architecture")); got != arch {
			t.Errorf("%s: Architecture %q", deb, got)
		}
		dir := t.TempDir()
		run(t, "dpkg-deb", "-x", deb, dir)
		// The README sits beside the guides and links to them there.
		if readme, err := os.ReadFile(filepath.Join(dir, "usr/share/doc/quiesce/README.md")); err != nil ||
			!bytes.Contains(readme, []byte("](configuration.md)")) || bytes.Contains(readme, []byte("](docs/")) {
			t.Errorf("%s: /usr/share/doc/quiesce/README.md missing or its links not beside the guides: %v", deb, err)
		}
		f, err := elf.Open(filepath.Join(dir, "usr/sbin/quiesce"))
		if err != nil {
			t.Fatal(err)
		}
		if f.Machine != machine {
			t.Errorf("%s: quiesce is for %v", deb, f.Machine)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s: quiesce is dynamically linked", deb)
			}
		}
		f.Close()
		var list []string
		for _, l := range strings.Split(run(t, "dpkg-deb", "-c", deb), "\n") {
			if fields := strings.Fields(l); len(fields) > 0 && !strings.HasSuffix(l, "/") {
				list = append(list, fields[len(fields)-1])
			}
		}
		sort.Strings(list)
		lists = append(lists, strings.Join(list, "\n"))
	}
	if lists[0] != lists[1] {
		t.Errorf("the two .debs hold different files:\n%s\n--\n%s", lists[0], lists[1])
	}
}

// The .rpm, inspected with Debian's rpm: its file list, the config file
// kept on upgrade (%config(noreplace)), no scripts, no requirement beyond
// rpm's own features.
func TestRPMContents(t *testing.T) {
	_, err := exec.LookPath("rpm")
	simtest.Require(t, err == nil, "rpm is not installed (.ci/run installs it)")
	b := makeDist(t)
	for arch, rpmArch := range map[string]string{"amd64": "x86_64", "arm64": "aarch64"} {
		rpm := b.rpm(t, rpmArch)
		_ = arch
		if got := run(t, "rpm", "-qp", "--qf", "%{NAME} %{VERSION} %{RELEASE} %{ARCH}", rpm); got != "quiesce "+b.pkgVersion+" 1 "+rpmArch {
			t.Errorf("%s: %q", rpm, got)
		}
		files := strings.Fields(run(t, "rpm", "-qpl", rpm))
		want := append([]string{"/usr/share/zsh/site-functions/_quiesce"}, packaged...)
		for _, f := range want {
			if !contains(files, f) {
				t.Errorf("%s lacks %s (has %v)", rpm, f, files)
			}
		}
		if contains(files, "/usr/share/zsh/vendor-completions/_quiesce") {
			t.Errorf("%s holds Debian's zsh path", rpm)
		}
		if got := run(t, "rpm", "-qp", "--scripts", "--triggers", rpm); strings.TrimSpace(got) != "" {
			t.Errorf("%s has scripts:\n%s", rpm, got)
		}
		for _, req := range strings.Fields(run(t, "rpm", "-qp", "--requires", rpm)) {
			if !strings.HasPrefix(req, "rpmlib(") {
				t.Errorf("%s requires %q", rpm, req)
			}
		}
		flags := run(t, "rpm", "-qp", "--qf", "[%{FILENAMES} %{FILEFLAGS:fflags} %{FILEMODES:perms}\n]", rpm)
		for _, want := range []string{conffile + " cn -rw-r--r--", "/usr/sbin/quiesce  -rwxr-xr-x"} {
			if !strings.Contains(flags, want+"\n") {
				t.Errorf("%s: no %q in\n%s", rpm, want, flags)
			}
		}
	}
}

// The Windows zip: quiesce.exe for amd64, the install script, the shims
// rendered for where it installs quiesce.exe (as "quiesce install" renders
// them), the boot-recovery task, the example configuration, the guides.
func TestWindowsZipContents(t *testing.T) {
	b := makeDist(t)
	name := "quiesce-" + b.pkgVersion + "-windows-amd64"
	zr, err := zip.OpenReader(b.pkg(t, name+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files := map[string][]byte{}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		rel, ok := strings.CutPrefix(f.Name, name+"/")
		if !ok {
			t.Errorf("zip entry outside %s/: %s", name, f.Name)
		}
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[rel], err = io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	exe := `C:\Program Files\quiesce\quiesce.exe`
	for _, shim := range []string{"vmware/quiesce-hook.cmd", "vmware/pre-freeze-script.bat", "vmware/post-thaw-script.bat", "veeam/pre-freeze.cmd", "veeam/post-thaw.cmd"} {
		want := hook.Render(scripts.Read(shim), exe)
		if !bytes.Equal(files[shim], want) {
			t.Errorf("zip: %s is not the shim rendered for %s:\n%s", shim, exe, files[shim])
		}
	}
	for _, f := range []string{"windows/install-recover-task.cmd", "windows/quiesce-recover.xml"} {
		if !bytes.Equal(files[f], scripts.Read(f)) {
			t.Errorf("zip: %s differs from scripts/%s", f, f)
		}
	}
	if !bytes.Equal(files["install.cmd"], readFile(t, "windows/install.cmd")) || !bytes.Contains(files["install.cmd"], []byte("\r\n")) {
		t.Errorf("zip: install.cmd is not scripts/packaging/windows/install.cmd with CRLF line ends")
	}
	if !bytes.Equal(files["quiesce.conf.example"], readFile(t, "../../docs/examples/domino-windows.conf")) {
		t.Errorf("zip: quiesce.conf.example differs from docs/examples/domino-windows.conf")
	}
	if len(files["docs/windows.md"]) == 0 {
		t.Errorf("zip: no docs/windows.md")
	}
	f, err := pe.NewFile(bytes.NewReader(files["quiesce.exe"]))
	if err != nil {
		t.Fatalf("zip: quiesce.exe: %v", err)
	}
	if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
		t.Errorf("zip: quiesce.exe is for machine %#x", f.Machine)
	}
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	want := "docs/configuration.md docs/veeam.md docs/vmware.md docs/windows.md install.cmd quiesce.conf.example quiesce.exe " +
		"veeam/post-thaw.cmd veeam/pre-freeze.cmd vmware/post-thaw-script.bat vmware/pre-freeze-script.bat vmware/quiesce-hook.cmd " +
		"windows/install-recover-task.cmd windows/quiesce-recover.xml"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("zip holds\n%s\nwant\n%s", got, want)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The Windows zip's install.cmd, run for real by wine's cmd in the Windows
// tier's prefix (.ci/wine/setup.sh), with %ProgramFiles% and %ProgramData%
// pointed into a temp dir: it installs quiesce.exe, which runs; the
// example becomes quiesce.conf; a second run keeps the admin's edit.
func TestWindowsZipInstallsUnderWine(t *testing.T) {
	_, err := exec.LookPath("wine")
	simtest.Require(t, err == nil, "wine is not installed (.ci/run installs it)")
	b := makeDist(t)
	root := repoRoot(t)
	if out, err := exec.Command("bash", filepath.Join(root, ".ci/wine/setup.sh")).CombinedOutput(); err != nil {
		t.Fatalf(".ci/wine/setup.sh: %v\n%s", err, out)
	}
	tree := zipTree(t, b)
	dir := filepath.Dir(tree)
	pf, pd := filepath.Join(dir, "Program Files"), filepath.Join(dir, "ProgramData")
	for _, d := range []string{pf, pd} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	win := func(p string) string { return "Z:" + strings.ReplaceAll(p, "/", `\`) }
	// A batch file sets the two folders for install.cmd (wine's cmd takes
	// them from its registry, not from the Unix environment).
	wrapper := filepath.Join(dir, "test-install.cmd")
	body := fmt.Sprintf("@echo off\r\nset \"ProgramFiles=%s\"\r\nset \"ProgramData=%s\"\r\ncall \"%s\"\r\nexit /b %%ERRORLEVEL%%\r\n",
		win(pf), win(pd), win(filepath.Join(tree, "install.cmd")))
	if err := os.WriteFile(wrapper, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	install := func() string {
		t.Helper()
		return run(t, filepath.Join(root, ".ci/wine/exec.sh"), "cmd", "/c", win(wrapper))
	}
	out := install()
	if !strings.Contains(out, "quiesce "+b.version) || !strings.Contains(out, "wrote ") {
		t.Errorf("install.cmd:\n%s", out)
	}
	for _, f := range []string{"quiesce.exe", "quiesce.conf.example", "vmware/quiesce-hook.cmd", "vmware/pre-freeze-script.bat", "veeam/pre-freeze.cmd", "windows/install-recover-task.cmd", "windows/quiesce-recover.xml"} {
		want := readFile(t, filepath.Join(tree, f))
		if got, err := os.ReadFile(filepath.Join(pf, "quiesce", f)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("install.cmd did not install %s: %v", f, err)
		}
	}
	conf := filepath.Join(pd, "quiesce", "quiesce.conf")
	if got, err := os.ReadFile(conf); err != nil || !bytes.Equal(got, readFile(t, "../../docs/examples/domino-windows.conf")) {
		t.Fatalf("install.cmd did not write quiesce.conf from the example: %v", err)
	}
	edited := append(readFile(t, conf), []byte("# edited by the admin\r\n")...)
	if err := os.WriteFile(conf, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := install(); !strings.Contains(out, "kept the existing") || !strings.Contains(out, "quiesce "+b.version) {
		t.Errorf("install.cmd, again:\n%s", out)
	}
	if !bytes.Equal(readFile(t, conf), edited) {
		t.Errorf("a second install.cmd replaced the admin's quiesce.conf")
	}
	// A failed copy is an error that says so, with exit code 1.
	if err := os.Remove(filepath.Join(tree, "quiesce.exe")); err != nil {
		t.Fatal(err)
	}
	failed, err := exec.Command(filepath.Join(root, ".ci/wine/exec.sh"), "cmd", "/c", win(wrapper)).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(failed), "installation into "+win(pf)+`\quiesce failed`) {
		t.Errorf("install.cmd without quiesce.exe: %v\n%s", err, failed)
	}
}
