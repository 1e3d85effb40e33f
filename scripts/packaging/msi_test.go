//go:build linux && packaging

package packaging

import (
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// msiTable is one table of an MSI as msiinfo exports it: rows of columns
// (the three header lines left out).
func msiTable(t *testing.T, msi, table string) [][]string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(run(t, "msiinfo", "export", msi, table), "\r\n"), "\n")
	if len(lines) < 3 {
		t.Fatalf("msiinfo export %s: no table\n%s", table, strings.Join(lines, "\n"))
	}
	var rows [][]string
	for _, l := range lines[3:] {
		rows = append(rows, strings.Split(strings.TrimRight(l, "\r"), "\t"))
	}
	return rows
}

func msiProperty(t *testing.T, msi, name string) string {
	t.Helper()
	for _, r := range msiTable(t, msi, "Property") {
		if len(r) == 2 && r[0] == name {
			return r[1]
		}
	}
	t.Fatalf("%s: no property %s", msi, name)
	return ""
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// longName is the long name of an MSI "short|long" file or folder name.
func longName(n string) string {
	if _, long, ok := strings.Cut(n, "|"); ok {
		return long
	}
	return n
}

// zipTree unpacks the Windows zip and returns its top folder.
func zipTree(t *testing.T, b built) string {
	t.Helper()
	name := "quiesce-" + b.pkgVersion + "-windows-amd64"
	dir := t.TempDir()
	run(t, "unzip", "-q", b.pkg(t, name+".zip"), "-d", dir)
	return filepath.Join(dir, name)
}

// The MSI's tables: the zip's files (its install.cmd aside) under
// ProgramFiles64Folder\quiesce, the example as ProgramData\quiesce\quiesce.conf
// (64-bit, never overwritten, permanent), the version from the packages'
// version, one UpgradeCode for every build, and the major-upgrade rows: a
// later build replaces an earlier one (or one of the same version), an
// earlier one is refused.
func TestWindowsMSIContents(t *testing.T) {
	_, err := exec.LookPath("msiinfo")
	simtest.Require(t, err == nil, "msitools is not installed (.ci/run installs wixl and msitools)")
	b := makeDist(t)
	msi := b.pkg(t, "quiesce-"+b.pkgVersion+"-windows-amd64.msi")

	// 0.0.0+gitN.HASH (no tag yet) is 0.0.N; 1.2.3+4.gHASH is 1.2.3.
	want := regexp.MustCompile(`^0\.0\.0\+git(\d+).*`).ReplaceAllString(b.pkgVersion, "0.0.$1")
	want = regexp.MustCompile(`^(\d+\.\d+\.\d+).*`).ReplaceAllString(want, "$1")
	if got := msiProperty(t, msi, "ProductVersion"); got != want {
		t.Errorf("ProductVersion %q for packages' version %s, want %q", got, b.pkgVersion, want)
	}
	wxs := string(readFile(t, "windows/quiesce.wxs"))
	code := regexp.MustCompile(`UpgradeCode="([0-9A-F-]{36})"`).FindStringSubmatch(wxs)
	if code == nil {
		t.Fatal("quiesce.wxs: no UpgradeCode")
	}
	upgrade := "{" + code[1] + "}"
	if got := msiProperty(t, msi, "UpgradeCode"); got != upgrade {
		t.Errorf("UpgradeCode %s, want the .wxs's %s", got, upgrade)
	}
	var rows []string
	for _, r := range msiTable(t, msi, "Upgrade") {
		rows = append(rows, strings.Join(r, "|"))
	}
	sort.Strings(rows)
	wantRows := []string{
		upgrade + "||" + want + "||513||WIX_UPGRADE_DETECTED",
		upgrade + "|" + want + "|||2||WIX_DOWNGRADE_DETECTED",
	}
	sort.Strings(wantRows)
	if strings.Join(rows, "\n") != strings.Join(wantRows, "\n") {
		t.Errorf("Upgrade table:\n%q\nwant\n%q", rows, wantRows)
	}
	// %ProgramData%\quiesce: SYSTEM and Administrators full control, Users
	// read (and execute), protected from ProgramData's inheritance.
	if got := msiTable(t, msi, "MsiLockPermissionsEx"); len(got) != 1 || strings.Join(got[0][1:4], "|") != "CONFDIR|CreateFolder|D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)" {
		t.Errorf("MsiLockPermissionsEx: %q", got)
	}
	if got := msiTable(t, msi, "CreateFolder"); len(got) != 1 || got[0][0] != "CONFDIR" || got[0][1] != "Config" {
		t.Errorf("CreateFolder: %q (the ACL applies to a folder the MSI creates)", got)
	}
	if lc := msiTable(t, msi, "LaunchCondition"); len(lc) != 1 || lc[0][0] != "NOT WIX_DOWNGRADE_DETECTED" {
		t.Errorf("LaunchCondition %q: an older MSI must not replace a newer quiesce", lc)
	}

	// Components: every file of the zip but install.cmd, each 64-bit
	// (attribute 256); the configuration 256+128+16.
	dirs := map[string][2]string{} // Directory -> parent, name
	for _, r := range msiTable(t, msi, "Directory") {
		name, _, _ := strings.Cut(longName(r[2]), ":") // target:source
		dirs[r[0]] = [2]string{r[1], name}
	}
	path := func(dir string) string {
		var parts []string
		for d := dir; d != "" && d != "TARGETDIR"; d = dirs[d][0] {
			if d == "ProgramFiles64Folder" || d == "CommonAppDataFolder" {
				parts = append([]string{d}, parts...)
				break
			}
			if n := dirs[d][1]; n != "." {
				parts = append([]string{n}, parts...)
			}
		}
		return strings.Join(parts, `\`)
	}
	compDir, compAttr := map[string]string{}, map[string]string{}
	for _, r := range msiTable(t, msi, "Component") {
		compDir[r[0]], compAttr[r[0]] = path(r[2]), r[3]
	}
	var got []string
	for _, r := range msiTable(t, msi, "File") {
		got = append(got, compDir[r[1]]+`\`+longName(r[2])+" "+compAttr[r[1]])
	}
	sort.Strings(got)
	zr, err := zip.OpenReader(b.pkg(t, "quiesce-"+b.pkgVersion+"-windows-amd64.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	wantFiles := []string{`CommonAppDataFolder\quiesce\quiesce.conf 400`}
	for _, f := range zr.File {
		rel := f.Name[strings.Index(f.Name, "/")+1:]
		if f.FileInfo().IsDir() || rel == "install.cmd" {
			continue
		}
		wantFiles = append(wantFiles, `ProgramFiles64Folder\quiesce\`+strings.ReplaceAll(rel, "/", `\`)+" 256")
	}
	sort.Strings(wantFiles)
	if strings.Join(got, "\n") != strings.Join(wantFiles, "\n") {
		t.Errorf("MSI files (path, component attributes):\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantFiles, "\n"))
	}

	// Uninstalling (not an upgrade) runs the installed quiesce.exe's
	// "uninstall --all" as SYSTEM before the files go, and fails if it does.
	exeFile := ""
	for _, r := range msiTable(t, msi, "File") {
		if compDir[r[1]] == `ProgramFiles64Folder\quiesce` && longName(r[2]) == "quiesce.exe" {
			exeFile = r[0]
		}
	}
	if ca := msiTable(t, msi, "CustomAction"); len(ca) != 1 || strings.Join(ca[0][:4], "|") != "RemoveHooks|3090|"+exeFile+"|uninstall --all" {
		t.Errorf("CustomAction: %q, want RemoveHooks running %s (%s) uninstall --all, deferred, as SYSTEM, checked (3090)", ca, "quiesce.exe", exeFile)
	}
	seq := map[string][2]string{}
	for _, r := range msiTable(t, msi, "InstallExecuteSequence") {
		seq[r[0]] = [2]string{r[1], r[2]}
	}
	if c := seq["RemoveHooks"]; c[0] != `REMOVE="ALL" AND NOT UPGRADINGPRODUCTCODE` || !(atoi(c[1]) > atoi(seq["InstallInitialize"][1]) && atoi(c[1]) < atoi(seq["RemoveFiles"][1])) {
		t.Errorf("RemoveHooks in InstallExecuteSequence: %q (InstallInitialize %s, RemoveFiles %s)", c, seq["InstallInitialize"][1], seq["RemoveFiles"][1])
	}

	// A later build (the script "make dist" runs, given a later version)
	// keeps the UpgradeCode and is a new product of a higher version.
	next := filepath.Join(t.TempDir(), "next.msi")
	run(t, "bash", filepath.Join(repoRoot(t), ".ci/msi.sh"), zipTree(t, b), "7.8.9+1.gabc", next)
	if v := msiProperty(t, next, "ProductVersion"); v != "7.8.9" {
		t.Errorf("msi.sh for 7.8.9+1.gabc: ProductVersion %s", v)
	}
	if msiProperty(t, next, "UpgradeCode") != upgrade || msiProperty(t, next, "ProductCode") == msiProperty(t, msi, "ProductCode") {
		t.Errorf("a later build must keep the UpgradeCode and have a ProductCode of its own")
	}
}

// The MSI installed for real by wine's msiexec, in a wine prefix of its
// own (the default folders are the MSI's, and nothing else may sit there):
// quiesce.exe runs; the example becomes quiesce.conf; uninstall removes
// the program and keeps the admin's configuration; installing again does
// not overwrite it. (Wine's msiexec does not carry out major upgrades as
// Windows does, so the upgrade is checked in the tables above.)
func TestWindowsMSIInstallsUnderWine(t *testing.T) {
	_, err := exec.LookPath("wine")
	simtest.Require(t, err == nil, "wine is not installed (.ci/run installs it)")
	b := makeDist(t)
	msi := b.pkg(t, "quiesce-"+b.pkgVersion+"-windows-amd64.msi")
	root := repoRoot(t)
	prefix := filepath.Join(t.TempDir(), "prefix")
	env := append(os.Environ(), "WINEPREFIX="+prefix)
	setup := exec.Command("bash", filepath.Join(root, ".ci/wine/setup.sh"))
	setup.Env = env
	if out, err := setup.CombinedOutput(); err != nil {
		t.Fatalf(".ci/wine/setup.sh: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		k := exec.Command("wineserver", "-k")
		k.Env = env
		_ = k.Run()
	})
	wine := func(args ...string) (string, error) {
		cmd := exec.Command(filepath.Join(root, ".ci/wine/exec.sh"), args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := wine(args...)
		if err != nil {
			t.Fatalf("wine %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	winMSI := "Z:" + strings.ReplaceAll(msi, "/", `\`)
	pf := filepath.Join(prefix, "drive_c", "Program Files", "quiesce")
	conf := filepath.Join(prefix, "drive_c", "ProgramData", "quiesce", "quiesce.conf")

	must("msiexec", "/i", winMSI, "/qn")
	tree := zipTree(t, b)
	err = filepath.WalkDir(tree, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "install.cmd" {
			return err
		}
		rel, _ := filepath.Rel(tree, p)
		if got, err := os.ReadFile(filepath.Join(pf, rel)); err != nil || !bytes.Equal(got, readFile(t, p)) {
			t.Errorf("msiexec did not install %s: %v", rel, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(pf, "install.cmd")); err == nil {
		t.Errorf("the MSI installed the zip's install.cmd")
	}
	if out := must(`C:\Program Files\quiesce\quiesce.exe`, "version"); !strings.Contains(out, "quiesce "+b.version) {
		t.Errorf("quiesce.exe version after the MSI: %q, want quiesce %s", out, b.version)
	}
	if got, err := os.ReadFile(conf); err != nil || !bytes.Equal(got, readFile(t, "../../docs/examples/domino-windows.conf")) {
		t.Fatalf("the MSI did not write quiesce.conf from the example: %v", err)
	}
	edited := append(readFile(t, conf), []byte("# edited by the admin\r\n")...)
	if err := os.WriteFile(conf, edited, 0o644); err != nil {
		t.Fatal(err)
	}

	// Hooks the admin installed with the installed quiesce.exe: the VMware
	// Tools hook (backupScripts.d of Tools' default folder, as the registry
	// names none here), the legacy scripts and the Veeam scripts; and a
	// hook of the admin's own beside them.
	hookCfg := filepath.Join(t.TempDir(), "hook.conf")
	if err := os.WriteFile(hookCfg, []byte("[target app]\r\nmanager = service\r\nservice = quiesce-test-app\r\nprocess_path = C:\\app\r\nready_tcp = 127.0.0.1:1\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	exe := `C:\Program Files\quiesce\quiesce.exe`
	winCfg := "Z:" + strings.ReplaceAll(hookCfg, "/", `\`)
	must(exe, "--config", winCfg, "install", "vmware")
	must(exe, "--config", winCfg, "install", "vmware", "--legacy")
	must(exe, "--config", winCfg, "install", "veeam")
	drive := filepath.Join(prefix, "drive_c")
	hooks := []string{
		filepath.Join(drive, "Program Files", "VMware", "VMware Tools", "backupScripts.d", "50-quiesce.cmd"),
		filepath.Join(drive, "windows", "pre-freeze-script.bat"),
		filepath.Join(drive, "windows", "post-thaw-script.bat"),
		filepath.Join(drive, "ProgramData", "quiesce", "veeam", "pre-freeze.cmd"),
		filepath.Join(drive, "ProgramData", "quiesce", "veeam", "post-thaw.cmd"),
	}
	for _, h := range hooks {
		if _, err := os.Stat(h); err != nil {
			t.Fatalf("quiesce.exe install did not write %s: %v", h, err)
		}
	}
	theirs := filepath.Join(filepath.Dir(hooks[0]), "60-theirs.cmd")
	if err := os.WriteFile(theirs, []byte("@echo off\r\nexit /b 0\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	must("msiexec", "/x", winMSI, "/qn")
	if _, err := os.Stat(filepath.Join(pf, "quiesce.exe")); err == nil {
		t.Errorf("uninstall left quiesce.exe")
	}
	for _, h := range hooks {
		if _, err := os.Stat(h); err == nil {
			t.Errorf("uninstalling the MSI left the hook %s, which calls the removed quiesce.exe", h)
		}
	}
	if _, err := os.Stat(theirs); err != nil {
		t.Errorf("uninstalling the MSI removed a hook quiesce did not write: %v", err)
	}
	if got, err := os.ReadFile(conf); err != nil || !bytes.Equal(got, edited) {
		t.Fatalf("uninstall did not keep the admin's quiesce.conf: %v", err)
	}
	must("msiexec", "/i", winMSI, "/qn")
	if !bytes.Equal(readFile(t, conf), edited) {
		t.Errorf("installing again overwrote the admin's quiesce.conf")
	}
	if _, err := os.Stat(filepath.Join(pf, "quiesce.exe")); err != nil {
		t.Errorf("installing again: %v", err)
	}
}
