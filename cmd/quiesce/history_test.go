//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/core/config"
)

// history shows the cycles the real binary ran against the simulated
// server: each caller's freeze and thaw, the outage and the window, as a
// table and as JSON, the last N per target.
func TestHistoryShowsCycles(t *testing.T) {
	simtest.Slow(t)
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.3, StartSeconds: 0.3}, "")
	g.mustRun(t, "start")
	g.mustRun(t, "qemu", "freeze")
	g.mustRun(t, "qemu", "thaw")
	g.mustRun(t, "vmware", "freeze")
	g.mustRun(t, "vmware", "thaw")
	g.mustRun(t, "veeam", "post-thaw") // a thaw with no freeze

	out := g.mustRun(t, "history", "--json")
	var cycles []cycle
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var c cycle
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("history --json: %v in %q", err, sc.Text())
		}
		cycles = append(cycles, c)
	}
	if len(cycles) != 3 {
		t.Fatalf("want 3 cycles, got %d:\n%s", len(cycles), out)
	}
	for i, caller := range []string{"qemu", "vmware"} {
		c := cycles[i]
		if c.Target != g.name() || c.Caller != caller || c.Freeze != "stopped" || c.Thaw != "started" || c.Quiesced == nil || !*c.Quiesced ||
			c.Outage == nil || *c.Outage < 0.6 || c.Window == nil || *c.Window <= 0 || *c.Window >= *c.Outage {
			t.Fatalf("cycle %d: %+v", i, c)
		}
	}
	if c := cycles[2]; c.Caller != "veeam" || c.Freeze != "" || c.Thaw != "nothing-to-thaw" || c.Outage != nil || c.Quiesced != nil {
		t.Fatalf("thaw without freeze: %+v", c)
	}
	if !cycles[0].When.Before(cycles[1].When) {
		t.Fatal("cycles out of order")
	}

	table := g.mustRun(t, "history", "-n", "2", "--target", "domino")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "WHEN") || !strings.Contains(lines[0], "QUIESCED") || !strings.Contains(lines[1], "vmware") ||
		!strings.Contains(lines[1], "stopped") || !regexp.MustCompile(`started +yes `).MatchString(lines[1]) || !strings.Contains(lines[2], "veeam") {
		t.Fatalf("history -n 2:\n%s", table)
	}
	if none := g.mustRun(t, "history", "--target", "redis"); !strings.Contains(none, "no freeze or thaw") {
		t.Fatalf("history of a target without cycles: %s", none)
	}
	if code, msg := g.run(t, "history", "-n", "0"); code != ExitUsage || !strings.Contains(msg, "-n must be at least 1") {
		t.Fatalf("history -n 0: %d %s", code, msg)
	}
}

// history as a user other than root: the message names each log it tried,
// where that choice came from and why it could not be read, and how to
// name another; never an empty path.
func TestHistoryNamesTheLogItTried(t *testing.T) {
	simtest.Require(t, os.Geteuid() == 0, "running history as another user needs root")
	bin := simtest.Binary(t, "quiesce")
	dir, err := os.MkdirTemp("", "quiesce-history-") // t.TempDir's parent is closed to others
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	logDir := filepath.Join(dir, "log")
	if err := os.Mkdir(logDir, 0o700); err != nil { // as quiesce makes it
		t.Fatal(err)
	}
	logFile := filepath.Join(logDir, "quiesce.log")
	cfg := filepath.Join(dir, "quiesce.conf")
	for path, body := range map[string]string{logFile: "", cfg: "log_file = " + logFile + "\n[domino]\nuser = notes\nlotus = /opt/hcl/domino\ndata = /local/notesdata\n"} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	history := func(asRoot bool, global ...string) (int, string) {
		t.Helper()
		argv := append(append([]string{bin, "--config", cfg}, global...), "history")
		if !asRoot {
			argv = append([]string{"setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups"}, argv...)
		}
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = "/"
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}
	code, out := history(false)
	want := "quiesce: cannot read the log: " + logFile + " (log_file in " + cfg + "): permission denied (quiesce's log is readable by root only: run history as root); name the log to read with --log-file\n"
	if code != ExitFailure || out != want {
		t.Errorf("history as nobody: exit %d\n%q\nwant\n%q", code, out, want)
	}
	code, out = history(false, "--log-file", "/nonexistent/quiesce.log")
	want = "quiesce: cannot read the log: /nonexistent/quiesce.log (--log-file): no such file (quiesce has written nothing there); name the log to read with --log-file\n"
	if code != ExitFailure || out != want {
		t.Errorf("history --log-file /nonexistent: exit %d\n%q\nwant\n%q", code, out, want)
	}
	if code, out := history(true); code != 0 || !strings.Contains(out, "no freeze or thaw in the log") {
		t.Errorf("history as root: exit %d %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "quiesce.log")); err == nil {
		t.Error("history wrote a log")
	}
}

// Which logs history tries: the one named, the configured one, else the
// default; a user other than root reads the root's log (where the hooks
// write), then its own.
func TestHistoryLogsTried(t *testing.T) {
	cfg := config.File{Source: "/etc/q.conf", Domino: config.Domino{Data: "/local/notesdata"}}
	withLog := cfg
	withLog.LogFile = "/srv/q.log"
	for _, c := range []struct {
		flag string
		cfg  config.File
		root bool
		want string
	}{
		{"/tmp/x.log", withLog, false, "/tmp/x.log (--log-file)"},
		{"", withLog, false, "/srv/q.log (log_file in /etc/q.conf)"},
		{"", cfg, true, "/var/log/quiesce/quiesce.log (the default log)"},
		{"", cfg, false, "/var/log/quiesce/quiesce.log (the log quiesce writes as root), /local/notesdata/quiesce.log (the log quiesce writes as another user)"},
	} {
		var got []string
		for _, l := range historyLogs(c.flag, c.cfg, false, c.root) {
			got = append(got, l.path+" ("+l.from+")")
		}
		if strings.Join(got, ", ") != c.want {
			t.Errorf("flag %q root %v: %v, want %s", c.flag, c.root, got, c.want)
		}
	}
}

// Whether each cycle's snapshot was quiesced, from the log: a failed
// freeze, a late thaw, an online backup that failed and a freeze the
// watchdog ended say no; a thaw that ended its hold, even one whose start
// failed, says yes.
func TestHistoryQuiesced(t *testing.T) {
	lines := []string{
		`{"ts":"2026-12-01T10:00:00Z","msg":"operation failed","instance":"domino","op":"freeze","caller":"qemu","error":"x"}`,
		`{"ts":"2026-12-01T11:00:00Z","msg":"operation done","instance":"domino","op":"freeze","caller":"vmware","outcome":"backup-mode"}`,
		`{"ts":"2026-12-01T11:01:00Z","msg":"operation failed","instance":"domino","op":"thaw","caller":"vmware","error":"late thaw: the freeze by vmware expired at ... is not restorable"}`,
		`{"ts":"2026-12-01T12:00:00Z","msg":"operation done","instance":"domino","op":"freeze","caller":"veeam","outcome":"backup-mode"}`,
		`{"ts":"2026-12-01T12:01:00Z","msg":"operation failed","instance":"domino","op":"thaw","caller":"veeam","error":"online backup failed: Domino Backup 1 ended without completing (see the server console): this snapshot is not restorable"}`,
		`{"ts":"2026-12-01T13:00:00Z","msg":"operation done","instance":"domino","op":"freeze","caller":"arcserve","outcome":"stopped"}`,
		`{"ts":"2026-12-01T13:01:00Z","msg":"operation failed","instance":"domino","op":"thaw","caller":"arcserve","error":"thaw failed: the server did not start"}`,
		`{"ts":"2026-12-01T14:00:00Z","msg":"operation done","instance":"domino","op":"freeze","caller":"qemu","outcome":"stopped"}`,
		`{"ts":"2026-12-01T14:09:00Z","msg":"recovered","instance":"domino","op":"watchdog","by":"watchdog","outcome":"started"}`,
		`{"ts":"2026-12-01T15:00:00Z","msg":"operation done","instance":"domino","op":"freeze","caller":"vmware","outcome":"not-running"}`,
		`{"ts":"2026-12-01T15:01:00Z","msg":"operation done","instance":"domino","op":"thaw","caller":"vmware","outcome":"not-started"}`,
	}
	cycles, err := readCycles(strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{false, false, false, true, false, true}
	if len(cycles) != len(want) {
		t.Fatalf("%d cycles: %+v", len(cycles), cycles)
	}
	for i, c := range cycles {
		if c.Quiesced == nil || *c.Quiesced != want[i] {
			t.Errorf("cycle %d (%s, freeze %s, thaw %s): quiesced %v, want %v", i, c.Caller, c.Freeze, c.Thaw, c.Quiesced, want[i])
		}
	}
}
