//go:build linux

package main

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is the checkout this test runs in.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("not the repository root: %s", root)
	}
	return root
}

// treeFiles calls fn for every file of the tree except .git and build output.
func treeFiles(t *testing.T, fn func(rel string, body []byte)) {
	t.Helper()
	root := repoRoot(t)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "bin" || path == filepath.Join(root, "dist")) {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		fn(rel, body)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// One install path on Linux for a build from source: /usr/local/sbin/quiesce,
// the FHS place for an administrator's tool run by root. No guide, script or
// unit names another (tests may run the binary under any name). The .deb and
// .rpm install it in /usr/sbin (the packaged units say so): only the packaging
// (.ci/dist.sh, scripts/packaging/) and the README's Install section name that.
func TestOneInstallPath(t *testing.T) {
	other := regexp.MustCompile(`/usr/(local/)?` + `bin/quiesce\b|/usr/` + `sbin/quiesce\b`) // split: not a match itself
	packaged := regexp.MustCompile(`/usr/` + `sbin/quiesce\b`)
	uses := 0
	treeFiles(t, func(rel string, body []byte) {
		if strings.HasSuffix(rel, "_test.go") {
			return // a test's argv[0], not an install path
		}
		packaging := rel == filepath.Join(".ci", "dist.sh") || strings.HasPrefix(rel, filepath.Join("scripts", "packaging")+string(filepath.Separator))
		section := ""
		if strings.HasPrefix(rel, "docs"+string(filepath.Separator)) {
			// The guides' one install paragraph names both ways.
			body = []byte(strings.ReplaceAll(string(body), guideInstall, strings.Repeat("\n", strings.Count(guideInstall, "\n"))))
		}
		for i, line := range strings.Split(string(body), "\n") {
			if rel == "README.md" && strings.HasPrefix(line, "## ") {
				section = line
			}
			check := line
			if packaging || section == "## Install" {
				check = packaged.ReplaceAllString(line, "")
			}
			if other.MatchString(check) {
				t.Errorf("%s:%d names another install path than /usr/local/sbin/quiesce: %s", rel, i+1, strings.TrimSpace(line))
			}
		}
		uses += bytes.Count(body, []byte("/usr/local/sbin/quiesce"))
	})
	for _, f := range []string{"README.md", "docs/rc_domino.md", "scripts/systemd/domino.service", "scripts/systemd/quiesce-recover.service"} {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), f))
		if err != nil || !bytes.Contains(b, []byte("/usr/local/sbin/quiesce")) {
			t.Errorf("%s does not use /usr/local/sbin/quiesce", f)
		}
	}
}

// guideInstall is how every guide with a Linux install step says how to
// install quiesce: one path per way of installing, the same words in each.
const guideInstall = "Install quiesce on the guest in one of two ways ([README](../README.md#install)):\n" +
	"\n" +
	"* **from the package** (`.deb`, `.rpm`): nothing to copy, it is `/usr/sbin/quiesce`;\n" +
	"* **from a checkout**: `make build`, then\n" +
	"  `install -m 0755 bin/quiesce /usr/local/sbin/quiesce`.\n" +
	"\n" +
	"Not both: a second copy shadows the first, and `quiesce install` writes the\n" +
	"path it runs from into the hooks. This guide writes `/usr/local/sbin/quiesce`;\n" +
	"with the package, read `/usr/sbin/quiesce`.\n"

// guideInstallWindows is the same for a guide's Windows install step.
const guideInstallWindows = "On Windows, install quiesce with the MSI (or, without msiexec, the zip's\n" +
	"`install.cmd`): it is `C:\\Program Files\\quiesce\\quiesce.exe`, nothing to\n" +
	"copy ([windows.md](windows.md)).\n"

// Every guide that installs quiesce says it with the same paragraph: from
// the package nothing to copy, from a checkout make build and
// bin/quiesce to /usr/local/sbin. No guide copies a bare "quiesce" (there
// is none in a checkout, and for a package user it would be a second copy
// that shadows /usr/sbin/quiesce and is pinned into hooks), and none has
// install steps of its own besides the paragraph.
func TestGuidesInstallTheSameWay(t *testing.T) {
	root := repoRoot(t)
	guides, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil || len(guides) == 0 {
		t.Fatalf("no guides in docs/: %v", err)
	}
	heading := regexp.MustCompile(`(?m)^## Install\b.*$`)
	installLine := regexp.MustCompile(`(?m)^.*\binstall -m.*$|^.*[Cc]opy ` + "`" + `quiesce(\.exe)?` + "`" + `.*$`)
	linux, windows := 0, 0
	for _, g := range guides {
		b, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		body, name := string(b), filepath.Base(g)
		for _, h := range heading.FindAllString(body, -1) {
			if strings.Contains(h, "Windows") {
				windows++
				if !strings.Contains(body, guideInstallWindows) {
					t.Errorf("%s: %q lacks the Windows install paragraph:\n%s", name, h, guideInstallWindows)
				}
				continue
			}
			linux++
			if !strings.Contains(body, guideInstall) {
				t.Errorf("%s: %q lacks the install paragraph (package: nothing to copy; checkout: make build, install bin/quiesce):\n%s", name, h, guideInstall)
			}
		}
		rest := strings.ReplaceAll(body, guideInstall, "")
		for _, l := range installLine.FindAllString(rest, -1) {
			t.Errorf("%s: an install step outside the install paragraph: %s", name, strings.TrimSpace(l))
		}
	}
	// Those that install: aws azure gcp nutanix qemu veeam vmware
	// rc_domino arcserve on Linux, vmware on Windows.
	if linux < 9 || windows < 1 {
		t.Errorf("%d guides install on Linux, %d on Windows: the test checks too little", linux, windows)
	}
	for _, name := range []string{"veeam.md", "vmware.md"} {
		b, _ := os.ReadFile(filepath.Join(root, "docs", name))
		if !strings.Contains(string(b), guideInstallWindows) {
			t.Errorf("%s: no Windows install paragraph", name)
		}
	}
	readme, _ := os.ReadFile(filepath.Join(root, "README.md"))
	if !strings.Contains(string(readme), "make build ") || !strings.Contains(string(readme), "install -m 0755 bin/quiesce /usr/local/sbin/quiesce") {
		t.Error("README.md: the install from source is not make build and install -m 0755 bin/quiesce /usr/local/sbin/quiesce")
	}
}

// make test's gofmt step must not truncate the log its output goes to (as
// "tee /dev/stderr" did, which reopens the file): what CI printed before
// stays, and an unformatted file is named and fails the step.
func TestFmtCheckKeepsTheLog(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	makefile := filepath.Join(repoRoot(t), "Makefile")
	for _, c := range []struct {
		name, src string
		fails     bool
	}{
		{"formatted", "package x\n\nfunc F() {}\n", false},
		{"unformatted", "package x\nfunc   F( ) {  }\n", true},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte(c.src), 0o644); err != nil {
			t.Fatal(err)
		}
		logPath := filepath.Join(t.TempDir(), "ci.log")
		log, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644) // as a CI runner's log
		if err != nil {
			t.Fatal(err)
		}
		const before = "earlier CI output: apt-get, go mod download\n"
		if _, err := log.WriteString(before); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("make", "-s", "-f", makefile, "fmt-check")
		cmd.Dir, cmd.Stdout, cmd.Stderr = dir, log, log
		runErr := cmd.Run()
		log.Close()
		out, _ := os.ReadFile(logPath)
		if !strings.HasPrefix(string(out), before) {
			t.Errorf("%s: the log lost what came before make's gofmt step:\n%q", c.name, out)
		}
		if (runErr != nil) != c.fails || c.fails && !strings.Contains(string(out), "x.go") {
			t.Errorf("%s: err %v, want failure %v, naming x.go:\n%s", c.name, runErr, c.fails, out)
		}
	}
}

// The README promises the Go that go.mod requires, and CI builds and runs
// the demo with exactly that version (make test-oldest-go).
func TestREADMEPromisesGoModVersion(t *testing.T) {
	root := repoRoot(t)
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)(\.\d+)?$`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	minor := string(m[1]) + "." + string(m[2])
	readme, _ := os.ReadFile(filepath.Join(root, "README.md"))
	if !strings.Contains(string(readme), "Go "+minor+" or newer") {
		t.Errorf("README.md does not say \"Go %s or newer\" (go.mod: go %s%s)", minor, minor, m[3])
	}
	ci, _ := os.ReadFile(filepath.Join(root, ".ci", "run"))
	mk, _ := os.ReadFile(filepath.Join(root, "Makefile"))
	if !strings.Contains(string(ci), "make test-oldest-go") || !strings.Contains(string(mk), "GOTOOLCHAIN=$(OLDEST_GO)") {
		t.Error("CI does not run make test-oldest-go with the oldest Go")
	}
}
