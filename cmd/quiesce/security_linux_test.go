//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/core/manifest"
)

// The Domino user must never become root through quiesce: quiesce runs as
// root inside directories that user owns (the data directory), so every
// file it opens, creates, appends to, reads or removes there is handled as
// that user, or refused. These tests play the attacker for real: the
// links are planted by the unprivileged user the simulated server runs
// as, then quiesce, as root, does its job; a root-only file must be left
// as it was, and no file may appear where that user could not create one.

// attacker is the unprivileged user the simulated server runs as.
type attacker struct {
	name     string
	uid, gid uint32
}

func newAttacker(t *testing.T, sim *simtest.Sim) attacker {
	t.Helper()
	if os.Geteuid() != 0 {
		simtest.Require(t, false, "the security tests run as root (quiesce's privilege is what they attack)")
	}
	u, err := user.Lookup(sim.User)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if uid == 0 {
		t.Fatalf("the simulated server runs as root")
	}
	return attacker{name: u.Username, uid: uint32(uid), gid: uint32(gid)}
}

// sh runs a shell command as the attacker and fails the test when it
// fails: what it plants, it plants with that user's rights only.
func (a attacker) sh(t *testing.T, script string) {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: a.uid, Gid: a.gid}}
	cmd.Dir = "/"
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("as %s: %s: %v\n%s", a.name, script, err, out)
	}
}

// openDir is a directory every user can reach (t.TempDir's parent is
// root's alone), with mode perm.
func openDir(t *testing.T, perm os.FileMode) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "quiesce-sec-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, perm); err != nil {
		t.Fatal(err)
	}
	return dir
}

// rootOnly is a directory only root can enter, with a secret file in it.
type rootOnly struct {
	dir, secret, absent string
}

const secretText = "TOP-SECRET root-only line\n"

func newRootOnly(t *testing.T) rootOnly {
	t.Helper()
	dir := openDir(t, 0o700)
	r := rootOnly{dir: dir, secret: filepath.Join(dir, "secret"), absent: filepath.Join(dir, "created-for-the-attacker")}
	if err := os.WriteFile(r.secret, []byte(secretText), 0o600); err != nil {
		t.Fatal(err)
	}
	return r
}

// intact fails the test when the secret file changed or the absent one
// exists.
func (r rootOnly) intact(t *testing.T, after string) {
	t.Helper()
	b, err := os.ReadFile(r.secret)
	if err != nil || string(b) != secretText {
		t.Errorf("%s: root-only file %s changed: %q (%v)", after, r.secret, b, err)
	}
	st, err := os.Stat(r.secret)
	if err == nil && (st.Sys().(*syscall.Stat_t).Uid != 0 || st.Mode().Perm() != 0o600) {
		t.Errorf("%s: root-only file %s now uid %d mode %04o", after, r.secret, st.Sys().(*syscall.Stat_t).Uid, st.Mode().Perm())
	}
	if _, err := os.Lstat(r.absent); err == nil {
		t.Errorf("%s: root created %s for the attacker", after, r.absent)
	}
}

// The output log (notes.log) and the input file (notes.input): a dangling
// link, a link to a root-only file and a hard link to one. Root must not
// create, append to or hand over any of them, on start, stop, freeze and
// thaw; Domino still starts and serves.
func TestDominoUserCannotAimRootAtFiles(t *testing.T) {
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.2}, "")
	a := newAttacker(t, g.sim)
	log, input := filepath.Join(g.sim.Data, "notes.log"), filepath.Join(g.sim.Data, "notes.input")
	for _, tc := range []struct {
		name  string
		plant func(r rootOnly)
	}{
		{"dangling symlink", func(r rootOnly) {
			a.sh(t, fmt.Sprintf("ln -sf %s %s && ln -sf %s %s", r.absent, log, r.absent, input))
		}},
		{"symlink to a root-only file", func(r rootOnly) {
			a.sh(t, fmt.Sprintf("ln -sf %s %s && ln -sf %s %s", r.secret, log, r.secret, input))
		}},
		{"hard link to a root-only file", func(r rootOnly) {
			// with fs.protected_hardlinks = 0 the user could make it; root
			// makes it here so that the test runs wherever it is on
			_ = os.Remove(log)
			if err := os.Link(r.secret, log); err != nil {
				t.Skipf("cannot hard link across these directories: %v", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRootOnly(t)
			tc.plant(r)
			g.mustRun(t, "start")
			if !g.sim.Serving() {
				t.Fatal("Domino does not serve after start")
			}
			r.intact(t, "start")
			if fd0 := serverStdin(t, g.sim); fd0 == r.secret {
				t.Errorf("the server's standard input is root's %s", r.secret)
			}
			g.mustRun(t, "vmware", "freeze")
			g.mustRun(t, "vmware", "thaw")
			r.intact(t, "freeze and thaw")
			g.mustRun(t, "stop")
			r.intact(t, "stop")
			_ = os.Remove(log)
			_ = os.Remove(input)
		})
	}
}

// serverStdin is what the running server's standard input is.
func serverStdin(t *testing.T, sim *simtest.Sim) string {
	t.Helper()
	for _, p := range sim.Procs() {
		if p.Name == "server" {
			fd0, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/0", p.PID))
			return fd0
		}
	}
	t.Fatal("no server process")
	return ""
}

// A start that fails shows the end of the output log; a log the user
// linked to a root-only file must not show root's file.
func TestFailedStartShowsNoRootFile(t *testing.T) {
	g := newGuest(t, simtest.Options{Ini: map[string]string{"SimFailStart": "1"}}, "")
	a := newAttacker(t, g.sim)
	r := newRootOnly(t)
	a.sh(t, fmt.Sprintf("ln -sf %s %s", r.secret, filepath.Join(g.sim.Data, "notes.log")))
	code, out := g.run(t, "start")
	if code == 0 {
		t.Fatalf("the start succeeded: %s", out)
	}
	if strings.Contains(out, "TOP-SECRET") || strings.Contains(g.log(t), "TOP-SECRET") {
		t.Fatalf("root's file shown to the Domino user:\n%s", out)
	}
	r.intact(t, "failed start")
}

// What a killed server leaves (~notes.lck, pid.nbf, .jsc_lock) is removed
// by 'quiesce recover' as the Domino user: a link there goes, the file it
// points to stays.
func TestCleanupRemovesOnlyWhatTheUserCould(t *testing.T) {
	g := newGuest(t, simtest.Options{}, "")
	a := newAttacker(t, g.sim)
	r := newRootOnly(t)
	lck := filepath.Join(g.sim.Data, "~notes.lck")
	a.sh(t, fmt.Sprintf("ln -sf %s %s", r.secret, lck))
	g.mustRun(t, "recover")
	r.intact(t, "recover")
	if _, err := os.Lstat(lck); err == nil {
		t.Errorf("%s left in place", lck)
	}
}

// Domino Backup's status file and the snapshot manifest: root writes them
// as the Domino user, so each file belongs to that user and a link
// planted in its place is replaced, never followed; the thaw's removal of
// the manifest removes the link, never what it points to.
func TestStatusFileWrittenAsTheDominoUser(t *testing.T) {
	forOrders(t, statusFileWrittenAsTheDominoUser)
}

func statusFileWrittenAsTheDominoUser(t *testing.T, o simtest.Options) {
	g := newOnlineGuest(t, o, "online", "", "")
	a := newAttacker(t, g.sim)
	r := newRootOnly(t)
	status := filepath.Join(g.sim.Data, "dominobackup_snapshot.lck")
	proof := filepath.Join(g.sim.Data, manifest.Name)
	a.sh(t, fmt.Sprintf("ln -sf %s %s", r.secret, status))
	a.sh(t, fmt.Sprintf("ln -sf %s %s", r.secret, proof))
	g.mustRun(t, "start")
	out := g.mustRun(t, "vmware", "freeze")
	if !strings.Contains(out, "backup mode") {
		t.Fatalf("not frozen online: %s", out)
	}
	for _, path := range []string{status, proof} {
		st, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		if uid := st.Sys().(*syscall.Stat_t).Uid; uid != a.uid || !st.Mode().IsRegular() {
			t.Errorf("%s: uid %d mode %s, want the Domino user's regular file", path, uid, st.Mode())
		}
	}
	r.intact(t, "online freeze")
	a.sh(t, fmt.Sprintf("ln -sf %s %s", r.secret, proof)) // planted again before the thaw removes it
	g.mustRun(t, "vmware", "thaw")
	r.intact(t, "online freeze and thaw")
}

// quiesce's own log: configured in the data directory (a non-root quiesce
// logs there by default), a link planted there is not followed.
func TestOwnLogNotFollowedIntoRootFiles(t *testing.T) {
	g := newGuest(t, simtest.Options{}, "")
	a := newAttacker(t, g.sim)
	r := newRootOnly(t)
	g.logFile = filepath.Join(g.sim.Data, "quiesce.log")
	a.sh(t, fmt.Sprintf("ln -sf %s %s", r.secret, g.logFile))
	code, out := g.run(t, "status")
	if code != StatusStopped {
		t.Fatalf("status: exit %d: %s", code, out)
	}
	if !strings.Contains(out, "symbolic link") {
		t.Errorf("the refused log is not reported: %s", out)
	}
	r.intact(t, "status with a planted log")
}

// Arcserve's D2D_PREPOST_OUTPUT is a file in a directory others may
// write (/tmp): a link or a second name is refused, the summary still
// goes to the caller's streams, and nothing is created through a link.
func TestArcserveOutputNotFollowed(t *testing.T) {
	g := newGuest(t, simtest.Options{}, "")
	a := newAttacker(t, g.sim)
	shared := openDir(t, 0o1777)
	for _, tc := range []struct {
		name  string
		plant func(r rootOnly, out string)
	}{
		{"symlink to a root-only file", func(r rootOnly, out string) { a.sh(t, fmt.Sprintf("ln -sf %s %s", r.secret, out)) }},
		{"dangling symlink", func(r rootOnly, out string) { a.sh(t, fmt.Sprintf("ln -sf %s %s", r.absent, out)) }},
		{"hard link", func(r rootOnly, out string) {
			if err := os.Link(r.secret, out); err != nil {
				t.Skipf("cannot hard link: %v", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRootOnly(t)
			out := filepath.Join(shared, "d2d-output-"+strings.ReplaceAll(tc.name, " ", "-"))
			tc.plant(r, out)
			cmd := g.cmd("arcserve", "post-backup")
			cmd.Env = append(cmd.Env, "D2D_PREPOST_OUTPUT="+out, "D2D_JOBTYPE=backup.full")
			b, _ := cmd.CombinedOutput()
			if !strings.Contains(string(b), "refused") {
				t.Errorf("the refusal is not reported: %s", b)
			}
			r.intact(t, "arcserve post-backup")
		})
	}
	// The real thing: a regular file of root's, one name, gets the summary
	// as its first line and keeps what it held.
	out := filepath.Join(shared, "d2d-output")
	if err := os.WriteFile(out, []byte("agent line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := g.cmd("arcserve", "post-backup")
	cmd.Env = append(cmd.Env, "D2D_PREPOST_OUTPUT="+out, "D2D_JOBTYPE=backup.full")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("post-backup: %v\n%s", err, b)
	}
	b, _ := os.ReadFile(out)
	if lines := strings.Split(string(b), "\n"); len(lines) < 2 || !strings.HasPrefix(lines[0], "quiesce arcserve post-backup: thaw OK") || lines[1] != "agent line" {
		t.Errorf("D2D_PREPOST_OUTPUT: %q", b)
	}
}

// A hook folder another user can write is refused before anything is
// written into it.
func TestInstallRefusesAFolderOthersWrite(t *testing.T) {
	g := newGuest(t, simtest.Options{}, "")
	a := newAttacker(t, g.sim)
	dir := filepath.Join(openDir(t, 0o755), "veeam")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, int(a.uid), int(a.gid)); err != nil {
		t.Fatal(err)
	}
	code, out := g.run(t, "install", "veeam", "--dir", dir)
	if code == 0 || !strings.Contains(out, "owned by uid") {
		t.Fatalf("install into %s (the Domino user's): exit %d\n%s", dir, code, out)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("files written into the refused folder: %v", entries)
	}
}

// The configuration is opened once and what was opened is checked, with
// every directory above it: a configuration in a directory another user
// can write is refused however fast that user swaps it, so an attacker's
// [target] command never runs (the red-team run won the race in 7 of 25
// tries when the file was read and then checked by name).
func TestConfigSwapRaceNeverWins(t *testing.T) {
	simtest.Slow(t)
	g := newGuest(t, simtest.Options{}, "")
	a := newAttacker(t, g.sim)
	r := newRootOnly(t)
	dir := filepath.Join(openDir(t, 0o755), "conf")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, int(a.uid), int(a.gid)); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(g.cfg)
	if err := os.WriteFile(filepath.Join(r.dir, "good.conf"), good, 0o644); err != nil {
		t.Fatal(err)
	}
	// root's good file, readable through a root-only directory? No: the
	// good copy must be reachable; keep it beside the secret in a
	// directory root owns and others may traverse.
	if err := os.Chmod(r.dir, 0o711); err != nil {
		t.Fatal(err)
	}
	evil := fmt.Sprintf("[target evil]\nstart = /bin/sh -c \"echo pwned > %s\"\nstop = /bin/sh -c \"echo pwned > %s\"\nprocess_names = sleep\n", r.absent, r.absent)
	a.sh(t, fmt.Sprintf("printf '%%s' '%s' > %s/evil.conf", strings.ReplaceAll(evil, "'", `'\''`), dir))
	link := filepath.Join(dir, "quiesce.conf")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	swapper := exec.CommandContext(ctx, "/bin/sh", "-c", fmt.Sprintf(
		"while :; do ln -sfn %s %s.new && mv -f %s.new %s; ln -sfn %s/evil.conf %s.new && mv -f %s.new %s; done",
		filepath.Join(r.dir, "good.conf"), link, link, link, dir, link, link, link))
	swapper.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: a.uid, Gid: a.gid}}
	if err := swapper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = swapper.Wait() }()
	for i := 0; i < 60; i++ {
		cmd := exec.Command(g.bin, "--config", link, "--log-file", g.logFile, "--state-dir", g.state, "vmware", "freeze")
		out, _ := cmd.CombinedOutput()
		if cmd.ProcessState.ExitCode() == 0 {
			t.Fatalf("try %d: a configuration in a folder the Domino user writes was obeyed:\n%s", i, out)
		}
		if !strings.Contains(string(out), "unsafe") && !strings.Contains(string(out), "file not found") {
			t.Fatalf("try %d: not refused as unsafe:\n%s", i, out)
		}
	}
	r.intact(t, "60 freezes during the swap")
}

// A configuration that is not a regular file is refused at once: /dev/zero
// must not fill the memory, a FIFO must not hang quiesce.
func TestConfigMustBeARegularFile(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo.conf")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/dev/zero", fifo} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cmd := exec.CommandContext(ctx, simtest.Binary(t, "quiesce"), "--config", path, "--state-dir", t.TempDir(), "--log-file", filepath.Join(t.TempDir(), "q.log"), "status")
		out, _ := cmd.CombinedOutput()
		late := ctx.Err() == context.DeadlineExceeded
		cancel()
		if late {
			t.Fatalf("--config %s: still running after 20 s", path)
		}
		if code := cmd.ProcessState.ExitCode(); code != StatusUnknown || !strings.Contains(string(out), "not a regular file") {
			t.Errorf("--config %s status: exit %d, want %d (unknown) and why: %s", path, code, StatusUnknown, out)
		}
		cmd = exec.Command(simtest.Binary(t, "quiesce"), "--config", path, "--state-dir", t.TempDir(), "--log-file", filepath.Join(t.TempDir(), "q.log"), "stop")
		out, _ = cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != ExitNotConfigured {
			t.Errorf("--config %s stop: exit %d, want %d: %s", path, code, ExitNotConfigured, out)
		}
	}
}

// One exit code for an unsafe configuration, as docs/configuration.md
// says: 6 for every command, 4 (LSB's "unknown") for status, whose codes
// are LSB's.
func TestUnsafeConfigurationExitCodes(t *testing.T) {
	g := newGuest(t, simtest.Options{}, "")
	if err := os.Chmod(g.cfg, 0o666); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
	}{{[]string{"status"}, StatusUnknown}, {[]string{"stop"}, ExitNotConfigured}, {[]string{"start"}, ExitNotConfigured}, {[]string{"recover"}, ExitNotConfigured}} {
		code, out := g.run(t, c.args...)
		if code != c.code || !strings.Contains(out, "unsafe") {
			t.Errorf("%v with a world-writable configuration: exit %d, want %d: %s", c.args, code, c.code, out)
		}
	}
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "`status` exits 4") {
		t.Error("docs/configuration.md does not say that status exits 4 on a configuration it cannot use")
	}
}
