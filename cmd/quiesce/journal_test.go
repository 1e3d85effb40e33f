//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// A real systemd-journald, in a private mount namespace with its own /run
// (and an empty /var/log/journal, so the host's journal is not touched),
// receives quiesce's entries: a freeze and a thaw of the simulated server
// arrive with their priority and fields, as journalctl shows them.
func TestJournaldEntries(t *testing.T) {
	simtest.Require(t, os.Geteuid() == 0, "a private mount namespace needs root")
	for _, p := range []string{"/usr/bin/unshare", "/lib/systemd/systemd-journald", "/usr/bin/journalctl"} {
		_, err := os.Stat(p)
		simtest.Require(t, err == nil, p+" is missing (Debian's systemd package)")
	}
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.3, StartSeconds: 0.3}, "")
	g.mustRun(t, "start")
	dir := t.TempDir()
	out := filepath.Join(dir, "journal.json")
	badCfg := filepath.Join(dir, "bad.conf")
	if err := os.WriteFile(badCfg, []byte("[domino]\nuser = nobody\nlotus = "+dir+"\ndata = "+dir+"\n[freeze]\nstate_dir = "+filepath.Join(dir, "state")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	q := fmt.Sprintf("%s --config %s --log-file %s", g.bin, g.cfg, g.logFile)
	script := fmt.Sprintf(`set -e
mount -t tmpfs tmpfs /run
if [ -d /var/log/journal ]; then mount -t tmpfs tmpfs /var/log/journal; fi
mkdir -p /run/systemd/journal
/lib/systemd/systemd-journald &
jd=$!
i=0; until [ -S /run/systemd/journal/socket ]; do i=$((i+1)); [ $i -lt 100 ] || exit 9; sleep 0.1; done
%[1]s qemu freeze
%[1]s qemu thaw
%[2]s --config %[3]s --log-file %[4]s qemu freeze || true
journalctl --sync
journalctl -D /run/log/journal -o json --no-pager SYSLOG_IDENTIFIER=quiesce > %[5]s
kill $jd
`, q, g.bin, badCfg, filepath.Join(dir, "bad.log"), out)
	cmd := exec.Command("/usr/bin/unshare", "--mount", "--propagation", "private", "--fork", "/bin/sh", "-c", script)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("journald namespace: %v\n%s", err, b)
	}
	if !g.sim.Serving() {
		t.Fatal("not serving after the thaw")
	}
	entries := readJournal(t, out)
	find := func(msg, op string) map[string]string {
		for _, e := range entries {
			if e["QUIESCE_MESSAGE"] == msg && e["OP"] == op {
				return e
			}
		}
		t.Fatalf("no journal entry %q op=%s among %d entries", msg, op, len(entries))
		return nil
	}
	fr := find("operation done", "freeze")
	th := find("operation done", "thaw")
	for k, v := range map[string]string{"PRIORITY": "6", "INSTANCE": g.name(), "CALLER": "qemu", "OUTCOME": "stopped"} {
		if fr[k] != v {
			t.Errorf("freeze entry %s = %q, want %q", k, fr[k], v)
		}
	}
	if th["OUTCOME"] != "started" || th["OUTAGE_SECONDS"] == "" || th["OUTAGE_SECONDS"] == "0" || th["WINDOW_SECONDS"] == "" {
		t.Errorf("thaw entry: %v", th)
	}
	if !strings.HasPrefix(th["MESSAGE"], g.name()+": operation done op=thaw caller=qemu outcome=started outage=") {
		t.Errorf("thaw MESSAGE %q", th["MESSAGE"])
	}
	if th["_PID"] == "" || th["_PID"] == fr["_PID"] {
		t.Errorf("freeze and thaw are two processes: _PID %q and %q", fr["_PID"], th["_PID"])
	}
	var rejected map[string]string
	for _, e := range entries {
		if e["QUIESCE_MESSAGE"] == "configuration rejected" {
			rejected = e
		}
	}
	if rejected == nil || rejected["PRIORITY"] != "3" || rejected["ERROR"] == "" {
		t.Errorf("the rejected configuration is not an error entry: %v", rejected)
	}
}

// readJournal reads journalctl -o json output: one object per line.
func readJournal(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var raw map[string]any
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatalf("journalctl -o json: %v", err)
		}
		e := map[string]string{}
		for k, v := range raw {
			if s, ok := v.(string); ok {
				e[k] = s
			}
		}
		out = append(out, e)
	}
	return out
}
