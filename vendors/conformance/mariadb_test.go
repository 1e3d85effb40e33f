//go:build linux

package conformance

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/core/dbtest"
	"github.com/quiesce/quiesce/core/proc"
)

// mariaServer is Debian's MariaDB with the workload's tables (InnoDB,
// MyISAM, Aria), on a loop file system.
type mariaServer struct {
	m    *dbtest.MariaDB
	user string
}

func (s *mariaServer) Writer(t *testing.T) *dbtest.Writer { return dbtest.MariaDBWriter(t, s.m) }
func (s *mariaServer) Prober() *dbtest.Prober             { return dbtest.MariaDBProber(s.m) }

func (s *mariaServer) Verify(t testing.TB, dir string, acked []int, facts map[string]string) (time.Duration, int64, string) {
	rep := dbtest.VerifyMariaDBCopy(t, dir, s.user, acked, facts["binlog_file"])
	var wrong []string
	for tb, n := range rep.Missing {
		if n > 0 {
			wrong = append(wrong, fmt.Sprintf("%s lacks %d acknowledged transactions", tb, n))
		}
	}
	wrong = append(wrong, rep.NotClean...)
	if facts != nil && !rep.BinlogMatches(facts["binlog_pos"], facts["gtid_binlog_pos"]) {
		wrong = append(wrong, fmt.Sprintf("binary log: quiesce recorded %s:%s GTID %s, the copy's log has %d bytes, GTID %s",
			facts["binlog_file"], facts["binlog_pos"], facts["gtid_binlog_pos"], rep.BinlogLen, rep.GTID))
	}
	return rep.Recovery, -1, strings.Join(wrong, "; ")
}

// newMariaRig starts a MariaDB and configures quiesce for it: kind =
// mariadb, the holder as root through unix_socket (Debian's default).
func newMariaRig(t *testing.T, targetKeys, freezeKeys string) (*dbRig, *mariaServer) {
	t.Helper()
	return newMariaRigOn(t, 200, targetKeys, freezeKeys)
}

// newMariaRigOn is newMariaRig on a file system of loopMiB MiB.
func newMariaRigOn(t *testing.T, loopMiB int, targetKeys, freezeKeys string) (*dbRig, *mariaServer) {
	t.Helper()
	if testing.Short() {
		t.Skip("real MariaDB servers: not with -short")
	}
	dbtest.RequireMariaDB(t)
	user := simtest.User(t)
	loop := dbtest.NewLoop(t, loopMiB, user)
	dbtest.InstallMariaDB(t, loop.Dir, user)
	s := &mariaServer{m: dbtest.StartMariaDB(t, loop.Dir, user, dbtest.MariaDBOptions{}), user: user}
	dbtest.SetupMariaDBWork(t, s.m)
	target := fmt.Sprintf("[target db]\nkind = mariadb\nsocket = %s\ndata_dir = %s\nenter_timeout = 10s\n%s", s.m.Socket, loop.Dir, targetKeys)
	return newDBRig(t, loop, s, target, freezeKeys), s
}

// Every caller freezes a MariaDB taking writes into InnoDB, MyISAM and
// Aria tables: the snapshot's server starts with repair off, has every
// transaction acknowledged before the freeze returned, every table (the
// system tables too) checks clean, and its binary log ends where quiesce
// recorded; no connection is refused. The same snapshots without a hook
// are the baseline, reported beside them.
func TestMariaDBCycles(t *testing.T) {
	d, s := newMariaRig(t, "", "")
	d.writer = s.Writer(t)
	defer d.writer.Stop()
	runCycles(t, d, "MariaDB 10.11")
	if errs := d.writer.Errors(); len(errs) > 0 {
		t.Fatalf("writes failed during the cycles: %v", errs[:min(3, len(errs))])
	}
}

// holderOf is the holder process the freeze recorded.
func holderOf(t *testing.T, d *dbRig) proc.Proc {
	t.Helper()
	entries, _ := filepath.Glob(filepath.Join(d.stateDir(), "*.json"))
	for _, e := range entries {
		b, _ := os.ReadFile(e)
		var rec struct {
			Data struct {
				PID   int32 `json:"holder_pid"`
				Start int64 `json:"holder_start"`
			} `json:"data"`
		}
		if json.Unmarshal(b, &rec) == nil && rec.Data.PID > 0 {
			return proc.Proc{PID: rec.Data.PID, Start: rec.Data.Start}
		}
	}
	t.Fatalf("no holder recorded in %s", d.stateDir())
	return proc.Proc{}
}

// writesFlow reports whether an InnoDB write returns within limit.
func writesFlow(t *testing.T, m *dbtest.MariaDB, limit time.Duration) bool {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- m.Write("INSERT INTO q.inno VALUES (-1) ON DUPLICATE KEY UPDATE i = i") }()
	select {
	case err := <-done:
		return err == nil
	case <-time.After(limit):
		return false
	}
}

// The faults of a MariaDB freeze.
func TestMariaDBFaults(t *testing.T) {
	d, s := newMariaRig(t, "", "deadline = 5s\n\n[budgets]\nveeam = 8s\n")
	q := func(args ...string) (int, string) { return runQ(t, d.env, args...) }
	after := func(t *testing.T) { // a failed step leaves nothing to the next
		t.Cleanup(func() {
			q("veeam", "post-thaw")
			simtest.Eventually(t, 10*time.Second, "no holder left", func() bool { return len(holderPIDs(d.bin)) == 0 })
		})
	}

	t.Run("check", func(t *testing.T) {
		code, out := q("check", "veeam")
		t.Logf("check: exit %d\n%s", code, out)
		for _, want := range []string{"db: MariaDB server, frozen online (method online)", "connection works: 10.", "BACKUP STAGE START and BLOCK_COMMIT",
			"veeam     lock within 3.75s (limit 8s per freeze); held until the thaw, at most 5s"} {
			if !strings.Contains(out, want) {
				t.Errorf("check does not say %q", want)
			}
		}
		if len(holderPIDs(d.bin)) > 0 {
			t.Fatal("check left a holder")
		}
	})
	t.Run("nested callers", func(t *testing.T) {
		after(t)
		if code, out := q("veeam", "pre-freeze"); code != 0 {
			t.Fatal(out)
		}
		if code, out := q("vmware", "freeze"); code != 0 || !strings.Contains(out, "joined") {
			t.Fatalf("nested freeze: exit %d %s", code, out)
		}
		if len(holderPIDs(d.bin)) != 1 {
			t.Fatalf("holders: %v, want one shared", holderPIDs(d.bin))
		}
		if _, out := q("status"); !strings.Contains(out, "db is FROZEN ONLINE (in BACKUP STAGE BLOCK_COMMIT, still serving) by veeam") ||
			!strings.Contains(out, "the watchdog ends the MariaDB lock (the server serves throughout)") || strings.Contains(out, "owes a start") {
			t.Fatalf("status of a held MariaDB:\n%s", out)
		}
		if code, out := q("vmware", "thaw"); code != 0 || !strings.Contains(out, "still in BACKUP STAGE BLOCK_COMMIT by veeam") {
			t.Fatalf("first thaw: exit %d %s", code, out)
		}
		if writesFlow(t, s.m, 500*time.Millisecond) {
			t.Fatal("writes flow while veeam still holds the freeze")
		}
		if code, out := q("veeam", "post-thaw"); code != 0 || !strings.Contains(out, "without a break") {
			t.Fatalf("last thaw: exit %d %s", code, out)
		}
		if !writesFlow(t, s.m, 2*time.Second) {
			t.Fatal("writes blocked after the last thaw")
		}
	})
	t.Run("the holder keeps none of the caller's descriptors", func(t *testing.T) {
		after(t)
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		cmd := exec.Command(d.bin, "veeam", "pre-freeze")
		cmd.Env = append(os.Environ(), d.env...)
		cmd.ExtraFiles = []*os.File{w} // a pipe the caller reads to its end, as an agent may
		out, err := cmd.CombinedOutput()
		w.Close()
		if err != nil {
			t.Fatalf("freeze: %v %s", err, out)
		}
		if len(holderPIDs(d.bin)) != 1 {
			t.Fatal("no holder")
		}
		_ = r.SetReadDeadline(time.Now().Add(2 * time.Second))
		if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Fatalf("the caller's pipe is still open after the freeze returned (read %d, %v): the holder kept it", n, err)
		}
	})
	t.Run("recover after a reboot", func(t *testing.T) {
		after(t)
		if code, out := q("veeam", "pre-freeze"); code != 0 {
			t.Fatal(out)
		}
		_ = proc.Signal(holderOf(t, d), syscall.SIGKILL) // gone with the reboot
		code, out := q("recover", "--boot")
		t.Logf("recover --boot: exit %d %s", code, out)
		if code != 0 || !strings.Contains(out, "nothing is held") {
			t.Fatalf("recover --boot: exit %d %s", code, out)
		}
	})
	t.Run("thaw never comes", func(t *testing.T) {
		after(t)
		if code, out := q("veeam", "pre-freeze"); code != 0 {
			t.Fatal(out)
		}
		if writesFlow(t, s.m, time.Second) {
			t.Fatal("writes flow during the freeze")
		}
		simtest.Eventually(t, 15*time.Second, "the watchdog ends the hold at the deadline", func() bool { return writesFlow(t, s.m, 500*time.Millisecond) })
		simtest.Eventually(t, 10*time.Second, "the holder is gone", func() bool { return len(holderPIDs(d.bin)) == 0 })
		code, out := q("veeam", "post-thaw")
		t.Logf("late thaw: exit %d %s", code, out)
		if code == 0 || !strings.Contains(out, "late thaw") || !strings.Contains(out, "MariaDB lock was released") {
			t.Fatalf("late thaw: exit %d %s", code, out)
		}
	})
	t.Run("holder killed", func(t *testing.T) {
		after(t)
		if code, out := q("veeam", "pre-freeze"); code != 0 {
			t.Fatal(out)
		}
		p := holderOf(t, d)
		if err := proc.Signal(p, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		simtest.Eventually(t, 5*time.Second, "writes flow once the holder's session dropped", func() bool { return writesFlow(t, s.m, 500*time.Millisecond) })
		code, out := q("veeam", "post-thaw")
		t.Logf("thaw after the holder was killed: exit %d %s", code, out)
		if code == 0 || !strings.Contains(out, "SUSPECT") {
			t.Fatalf("thaw after the holder was killed: exit %d %s", code, out)
		}
		if strings.Count(strings.TrimSpace(out), "\n") > 0 {
			t.Fatalf("more than one line: %q", out)
		}
	})
	t.Run("long statement blocks the lock", func(t *testing.T) {
		after(t)
		db := s.m.DB(t)
		s.m.Exec(t, "INSERT IGNORE INTO q.isam (i) VALUES (-7)")
		long := make(chan error, 1)
		go func() { _, err := db.Exec("UPDATE q.isam SET pad = 'y' WHERE i = -7 AND SLEEP(12) = 0"); long <- err }()
		time.Sleep(300 * time.Millisecond) // the UPDATE runs, holding q.isam
		began := time.Now()
		code, out := q("veeam", "pre-freeze")
		took := time.Since(began)
		t.Logf("after %s: exit %d %s", took.Round(time.Millisecond), code, out)
		if code == 0 || !strings.Contains(out, "lock") || strings.Count(strings.TrimSpace(out), "\n") > 0 {
			t.Fatalf("freeze against a long statement: exit %d %q", code, out)
		}
		if took > 8*time.Second {
			t.Fatalf("the freeze gave up after %s, past Veeam's budget (8s)", took)
		}
		if len(holderPIDs(d.bin)) > 0 {
			t.Fatal("a holder outlived the failed freeze")
		}
		if err := <-long; err != nil {
			t.Fatal(err)
		}
		if !writesFlow(t, s.m, 2*time.Second) {
			t.Fatal("writes blocked after the failed freeze")
		}
	})
	t.Run("server down", func(t *testing.T) {
		after(t)
		s.m.Stop()
		code, out := q("veeam", "pre-freeze")
		t.Logf("exit %d %s", code, out)
		if code == 0 || !strings.Contains(out, "no MariaDB server listens on "+s.m.Socket) {
			t.Fatalf("freeze of a stopped server: exit %d %s", code, out)
		}
		if len(holderPIDs(d.bin)) > 0 {
			t.Fatal("a holder was started for a stopped server")
		}
		if entries, _ := filepath.Glob(filepath.Join(d.stateDir(), "*.json")); len(entries) > 0 {
			t.Fatalf("a freeze of a stopped server left %v", entries)
		}
	})
}

// Credentials: a wrong account fails the freeze with one line; a
// credentials file others can read is refused before anything is done,
// with the configuration's exit code.
func TestMariaDBCredentials(t *testing.T) {
	d, s := newMariaRig(t, "db_user = nosuchuser\n", "")
	code, out := runQ(t, d.env, "veeam", "pre-freeze")
	t.Logf("wrong account: exit %d %s", code, out)
	if code == 0 || !strings.Contains(out, "Access denied for user 'nosuchuser'") || strings.Count(strings.TrimSpace(out), "\n") > 0 {
		t.Fatalf("wrong account: exit %d %q", code, out)
	}
	if !writesFlow(t, s.m, 2*time.Second) {
		t.Fatal("writes blocked after a refused freeze")
	}
	cred := filepath.Join(dbtest.TempDir(t, ""), "quiesce.cnf")
	if err := os.WriteFile(cred, []byte("[client]\nuser = root\npassword = secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	body, _ := os.ReadFile(d.cfg)
	if err := os.WriteFile(d.cfg, []byte(strings.Replace(string(body), "db_user = nosuchuser", "credentials = "+cred, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out = runQ(t, d.env, "check")
	t.Logf("check: exit %d %s", code, out)
	if code != 6 || !strings.Contains(out, "group or others may read it") || !strings.Contains(out, "chmod 600") {
		t.Fatalf("check with a credentials file others can read: exit %d %s", code, out)
	}
	code, out = runQ(t, d.env, "veeam", "pre-freeze")
	t.Logf("unsafe credentials: exit %d %s", code, out)
	if code == 0 || !strings.Contains(out, "unsafe") || strings.Count(strings.TrimSpace(out), "\n") > 0 {
		t.Fatalf("freeze with a credentials file others can read: exit %d %q", code, out)
	}
	if strings.Contains(d.log(t), "secret") {
		t.Fatal("the password is in the log")
	}
}
