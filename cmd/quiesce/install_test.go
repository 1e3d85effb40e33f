//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// runHook runs an installed hook as its caller would: no QUIESCE_*
// variables, from another directory.
func runHook(t *testing.T, path string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env, cmd.Dir = hookEnv(), "/"
	out, _ := cmd.CombinedOutput()
	return cmd.ProcessState.ExitCode(), string(out)
}

// install vmware writes a hook that carries the configuration, state
// directory and log file it was installed with, checks it with a dry run
// that changes nothing, says what it wrote; the hook then works with no
// environment at all, and uninstall removes exactly it.
func TestInstalledHookKeepsItsConfiguration(t *testing.T) {
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.2}, "")
	g.mustRun(t, "start")
	pid := g.sim.Procs()[0].PID
	dir := filepath.Join(t.TempDir(), "backupScripts.d")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "60-theirs")
	if err := os.WriteFile(other, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "hookstate")
	// The hook's freeze arms a watchdog on this state directory, not the
	// guest's: it goes with the test.
	t.Cleanup(func() { simtest.KillWatchdogs(state) })
	out := g.mustRun(t, "--state-dir", state, "install", "vmware", "--dir", dir)
	hookPath := filepath.Join(dir, "50-quiesce")
	for _, want := range []string{"installed: " + hookPath, "runs:    " + g.bin + " --config=" + g.cfg + " --state-dir=" + state + " --log-file=" + g.logFile + " vmware",
		"checked: quiesce vmware --dry-run: OK: configuration " + g.cfg + " loads; domino running", "nothing was changed"} {
		if !strings.Contains(out, want) {
			t.Fatalf("install output lacks %q:\n%s", want, out)
		}
	}
	if p := g.sim.Procs(); len(p) == 0 || p[0].PID != pid || !g.sim.Serving() {
		t.Fatal("the install's dry run touched the server")
	}
	if _, err := os.Stat(filepath.Join(state, "domino.json")); err == nil {
		t.Fatal("the dry run recorded a freeze state")
	}
	if code, out := runHook(t, hookPath, "freeze"); code != 0 || !strings.Contains(out, "freeze OK: "+g.name()+" stopped") {
		t.Fatalf("hook freeze without any environment: exit %d %s", code, out)
	}
	if _, err := os.Stat(state); err != nil {
		t.Fatalf("the hook did not use the state directory it was installed with: %v", err)
	}
	if code, out := runHook(t, hookPath, "thaw"); code != 0 || !strings.Contains(out, "thaw OK: "+g.name()+" started") || !g.sim.Serving() {
		t.Fatalf("hook thaw: exit %d %s", code, out)
	}
	if !strings.Contains(g.log(t), `"args":["`+g.bin+`","--config=`+g.cfg) {
		t.Fatal("the hook did not log to the log file it was installed with")
	}
	if out := g.mustRun(t, "uninstall", "vmware", "--dir", dir); strings.TrimSpace(out) != "removed: "+hookPath {
		t.Fatalf("uninstall: %s", out)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 || entries[0].Name() != "60-theirs" {
		t.Fatalf("uninstall removed more or less than its hook: %v", entries)
	}
}

// install refuses a configuration that does not load (writing nothing), and
// a hook that cannot reach its target (putting the previous hook back).
func TestInstallRefusesAHookThatWouldFail(t *testing.T) {
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.2}, "")
	dir := filepath.Join(t.TempDir(), "backupScripts.d")
	code, out := g.run(t, "--config", filepath.Join(dir, "missing.conf"), "install", "vmware", "--dir", dir)
	if code != ExitNotConfigured || !strings.Contains(out, "missing.conf: file not found") {
		t.Fatalf("missing configuration: exit %d %s", code, out)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("install wrote something for a configuration that does not load")
	}
	g.mustRun(t, "install", "vmware", "--dir", dir)
	hookPath := filepath.Join(dir, "50-quiesce")
	good, _ := os.ReadFile(hookPath)
	bad := filepath.Join(t.TempDir(), "nouser.conf")
	body, _ := os.ReadFile(g.cfg)
	if err := os.WriteFile(bad, []byte(strings.Replace(string(body), "user = "+g.sim.User, "user = no-such-user-q", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out = g.run(t, "--config", bad, "install", "vmware", "--dir", dir)
	if code != ExitFailure || !strings.Contains(out, "failed its check") || !strings.Contains(out, `user "no-such-user-q" does not exist`) ||
		!strings.Contains(out, "put the previous hook back") {
		t.Fatalf("unreachable target: exit %d %s", code, out)
	}
	if now, _ := os.ReadFile(hookPath); string(now) != string(good) {
		t.Fatalf("the previous hook was not put back:\n%s", now)
	}
}

// The command install arcserve prints for the console works whether
// Arcserve runs it through a shell or splits it on spaces itself: run both
// ways (with --dry-run, which stops nothing), it finds the configuration
// it was installed with. A path that needs quoting is
// quoted, and sh reads it back as one word.
func TestArcserveConsoleCommandWithAndWithoutShell(t *testing.T) {
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.2}, "")
	out := g.mustRun(t, "install", "arcserve")
	var line string
	for _, l := range strings.Split(out, "\n") {
		if _, cmd, ok := strings.Cut(l, "Run a command before backup is started:"); ok {
			line = strings.TrimSpace(cmd)
		}
	}
	if line == "" || !strings.HasSuffix(line, " arcserve pre-snapshot") {
		t.Fatalf("install arcserve prints no pre-snapshot command:\n%s", out)
	}
	wantOut := "configuration " + g.cfg + " loads"
	check := func(how string, cmd *exec.Cmd) {
		t.Helper()
		cmd.Env = hookEnv()
		got, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(got), wantOut) {
			t.Errorf("%s: %s: %v\n%s", how, line, err, got)
		}
	}
	check("sh -c", exec.Command("sh", "-c", line+" --dry-run"))
	argv := strings.Fields(line)
	check("split on spaces, no shell", exec.Command(argv[0], append(argv[1:], "--dry-run")...))

	// A configuration path with a space and a quote: quoted, and only so.
	odd := filepath.Join(t.TempDir(), "it's conf", "q.conf")
	if err := os.MkdirAll(filepath.Dir(odd), 0o755); err != nil {
		t.Fatal(err)
	}
	body, _ := os.ReadFile(g.cfg)
	if err := os.WriteFile(odd, body, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := g.run(t, "--config", odd, "install", "arcserve")
	quoted := g.bin + " --config='" + strings.ReplaceAll(odd, "'", `'\''`) + "' --log-file=" + g.logFile + " arcserve pre-snapshot"
	if code != 0 || !strings.Contains(out, quoted) {
		t.Fatalf("install arcserve with %q: exit %d, want %q in\n%s", odd, code, quoted, out)
	}
	sh := exec.Command("sh", "-c", quoted+" --dry-run")
	sh.Env = hookEnv()
	if got, err := sh.CombinedOutput(); err != nil || !strings.Contains(string(got), "configuration "+odd+" loads") {
		t.Errorf("sh -c %s: %v\n%s", quoted, err, got)
	}
}

// install arcserve and install veeam give commands that carry the
// configuration, checked with a dry run.
func TestConsoleCommandsCarryTheConfiguration(t *testing.T) {
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.2}, "")
	out := g.mustRun(t, "install", "arcserve")
	want := g.bin + " --config=" + g.cfg + " --log-file=" + g.logFile + " arcserve pre-snapshot"
	if !strings.Contains(out, want) || !strings.Contains(out, "checked: quiesce arcserve --dry-run: OK") {
		t.Fatalf("install arcserve lacks %q or its check:\n%s", want, out)
	}
	dir := t.TempDir()
	out = g.mustRun(t, "install", "veeam", "--dir", dir)
	if !strings.Contains(out, "checked: pre-freeze.sh: quiesce veeam --dry-run: OK") || !strings.Contains(out, "--config="+g.cfg) {
		t.Fatalf("install veeam:\n%s", out)
	}
	if code, out := runHook(t, filepath.Join(dir, "pre-freeze.sh")); code != 0 || !strings.Contains(out, "freeze OK") {
		t.Fatalf("Veeam pre-freeze script without environment: exit %d %s", code, out)
	}
	runHook(t, filepath.Join(dir, "post-thaw.sh"))
	if out := g.mustRun(t, "uninstall", "veeam", "--dir", dir); strings.Count(out, "removed: ") != 2 {
		t.Fatalf("uninstall veeam: %s", out)
	}
}

// check warns about an installed hook whose configuration no longer loads.
func TestCheckWarnsAboutAHooksConfiguration(t *testing.T) {
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.2}, "")
	own := filepath.Join(t.TempDir(), "hook.conf")
	body, _ := os.ReadFile(g.cfg)
	if err := os.WriteFile(own, body, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "backupScripts.d")
	g.mustRun(t, "--config", own, "install", "vmware", "--dir", dir)
	none := t.TempDir()
	args := []string{"check", "--all", "--vmware-dir", dir, "--qemu-hook", filepath.Join(none, "h"), "--qemu-dropin-dir", none, "--veeam-dir", none}
	// The hook uses its own configuration, not the one checked: check says
	// so and fails (its freezes follow the other file: #21 item 7)...
	if code, out := g.run(t, args...); code != ExitFailure || !strings.Contains(out, "PROBLEM: hook "+filepath.Join(dir, "50-quiesce")+" uses "+own+", not "+g.cfg+" checked here") {
		t.Fatalf("check of a hook that uses another configuration: exit %d %s", code, out)
	}
	// ...and checking the file the hook uses finds it good.
	if code, out := g.run(t, append([]string{"--config", own}, args...)...); code != 0 || !strings.Contains(out, "uses its --config "+own+", which loads") || !strings.Contains(out, "quiesce check: OK") {
		t.Fatalf("check with a good hook: exit %d %s", code, out)
	}
	if err := os.WriteFile(own, append(body, []byte("shutdown_timout = 5\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := g.run(t, args...)
	if code != ExitFailure || !strings.Contains(out, "WARNING: hook "+filepath.Join(dir, "50-quiesce")+" uses its --config "+own+", which does not load") ||
		!strings.Contains(out, "unknown key") {
		t.Fatalf("check with a hook whose configuration broke: exit %d %s", code, out)
	}
}

// uninstall --all removes every hook quiesce installed, for every caller,
// where check looks for it (here moved into temp dirs with check's
// NAME-FLAG options); a file in the way that quiesce did not write is left
// and named, and is no failure.
func TestUninstallAllRemovesEveryHook(t *testing.T) {
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.2}, "")
	tmp := t.TempDir()
	dir := func(name string) string { return filepath.Join(tmp, name) }
	g.mustRun(t, "install", "vmware", "--dir", dir("vmware"))
	g.mustRun(t, "install", "veeam", "--dir", dir("veeam"))
	if err := os.MkdirAll(dir("nutanix"), 0o755); err != nil {
		t.Fatal(err)
	}
	theirs := filepath.Join(dir("nutanix"), "pre_freeze")
	if err := os.WriteFile(theirs, []byte("#!/bin/sh\nexit 0\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir("root"), 0o755); err != nil {
		t.Fatal(err)
	}
	code, out := g.run(t, "uninstall", "--all", "--vmware-dir", dir("vmware"), "--veeam-dir", dir("veeam"), "--nutanix-dir", dir("nutanix"),
		"--gcp-dir", dir("gcp"), "--gcp-agent-config", dir("gcp.cfg"), "--azure-dir", dir("azure"), "--azure-plugin-config", dir("azure.json"),
		"--aws-document", dir("aws.json"), "--root", dir("root"))
	for _, want := range []string{"removed: " + filepath.Join(dir("vmware"), "50-quiesce"), "removed: " + filepath.Join(dir("veeam"), "pre-freeze.sh"),
		"removed: " + filepath.Join(dir("veeam"), "post-thaw.sh"), "nutanix: left in place: " + theirs + " was not installed by quiesce"} {
		if !strings.Contains(out, want) {
			t.Errorf("uninstall --all: no %q", want)
		}
	}
	if code != 0 {
		t.Errorf("uninstall --all: exit %d", code)
	}
	for _, gone := range []string{filepath.Join(dir("vmware"), "50-quiesce"), filepath.Join(dir("veeam"), "pre-freeze.sh")} {
		if _, err := os.Stat(gone); err == nil {
			t.Errorf("uninstall --all left %s", gone)
		}
	}
	if _, err := os.Stat(theirs); err != nil {
		t.Errorf("uninstall --all removed a file quiesce did not write: %v", err)
	}
	if t.Failed() {
		t.Log(out)
	}
	if code, out := g.run(t, "uninstall"); code != ExitUsage || !strings.Contains(out, "name a caller") {
		t.Errorf("uninstall without a caller or --all: exit %d %s", code, out)
	}
}
