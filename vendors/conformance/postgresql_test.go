//go:build linux

package conformance

import (
	"context"
	"encoding/json"
	"fmt"
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

// pgServer is Debian's PostgreSQL with the workload's tables (logged and
// unlogged), on a loop file system, archiving its WAL.
type pgServer struct {
	p       *dbtest.Postgres
	loop    *dbtest.Loop
	wal     *dbtest.Loop // pg_wal's own file system, when split
	archive string
	user    string
	labels  string // quiesce's label_dir
}

func (s *pgServer) Writer(t *testing.T) *dbtest.Writer { return dbtest.PGWriter(t, s.p) }
func (s *pgServer) Prober() *dbtest.Prober             { return dbtest.PGProber(s.p) }

// Verify implements dbServer: a crash-consistent copy (one file system,
// CHECKPOINT) starts by crash recovery; every acknowledged transaction is
// there and the unlogged table is empty.
func (s *pgServer) Verify(t testing.TB, dir string, acked []int, facts map[string]string) (time.Duration, int64, string) {
	rep := dbtest.VerifyPGCopy(t, dir, s.user, acked, nil)
	wrong := rep.Wrong()
	n, _ := rep.Redo()
	if facts != nil && facts["mode"] == "checkpoint" && n > 4<<20 {
		wrong = strings.TrimPrefix(wrong+fmt.Sprintf("; the copy replayed %d bytes of WAL after quiesce's CHECKPOINT", n), "; ")
	}
	return rep.Recovery, n, wrong
}

// Tidy implements tidier: pg_archivecleanup (PostgreSQL's own tool for
// it) removes every archived WAL segment older than the newest. The soak
// holds pg_backup_start with archive_mode on and restores its copies by
// crash recovery, never from the archive; kept, the archive grew by
// about 1.5 GB a minute and was filling the host's /tmp (23 GB after 22 minutes
// of seed 1796588199).
func (s *pgServer) Tidy(t testing.TB) {
	t.Helper()
	names, err := os.ReadDir(s.archive)
	if err != nil {
		t.Fatal(err)
	}
	newest := ""
	for _, n := range names {
		if len(n.Name()) == 24 && strings.Trim(n.Name(), "0123456789ABCDEF") == "" && n.Name() > newest {
			newest = n.Name()
		}
	}
	if newest == "" {
		return
	}
	if out, err := exec.Command(filepath.Join(dbtest.PGBin(), "pg_archivecleanup"), s.archive, newest).CombinedOutput(); err != nil {
		t.Fatalf("pg_archivecleanup %s %s: %v\n%s", s.archive, newest, err, out)
	}
}

// newPGRig starts a PostgreSQL (pg_wal on a second file system with
// split) and configures quiesce for it: kind = postgresql, the holder as
// the cluster's OS user (peer authentication on the socket).
func newPGRig(t *testing.T, split bool, targetKeys, freezeKeys string) (*dbRig, *pgServer) {
	t.Helper()
	return newPGRigOn(t, 300, split, targetKeys, freezeKeys)
}

// newPGRigOn is newPGRig with its data on a file system of loopMiB MiB.
func newPGRigOn(t *testing.T, loopMiB int, split bool, targetKeys, freezeKeys string) (*dbRig, *pgServer) {
	t.Helper()
	if testing.Short() {
		t.Skip("real PostgreSQL servers: not with -short")
	}
	dbtest.RequirePostgres(t)
	user := simtest.User(t)
	s := &pgServer{user: user, loop: dbtest.NewLoop(t, loopMiB, user), archive: dbtest.TempDir(t, user), labels: filepath.Join(dbtest.TempDir(t, ""), "labels")}
	waldir := ""
	if split {
		s.wal = dbtest.NewLoop(t, 200, user)
		waldir = filepath.Join(s.wal.Dir, "pg_wal")
	}
	dbtest.InitPostgres(t, s.loop.Dir, waldir, user)
	s.p = dbtest.StartPostgres(t, s.loop.Dir, user, dbtest.PGOptions{Archive: s.archive})
	dbtest.SetupPGWork(t, s.p)
	target := fmt.Sprintf("[target pg]\nkind = postgresql\nuser = %s\nsocket = %s\nport = %d\ndata_dir = %s\nlabel_dir = %s\nenter_timeout = 20s\n%s",
		user, s.p.SockDir, s.p.Port, s.loop.Dir, s.labels, targetKeys)
	return newDBRig(t, s.loop, s, target, freezeKeys), s
}

// Every caller freezes a PostgreSQL with data and WAL on one file
// system: a CHECKPOINT, nothing held; the snapshot's server recovers
// from the checkpoint with every acknowledged transaction (the unlogged
// table empty, as crash recovery leaves it). The baseline is the same
// snapshot without a hook.
func TestPostgreSQLCycles(t *testing.T) {
	d, s := newPGRig(t, false, "", "")
	d.writer = s.Writer(t)
	defer d.writer.Stop()
	runCycles(t, d, "PostgreSQL 15")
	if errs := d.writer.Errors(); len(errs) > 0 {
		t.Fatalf("writes failed during the cycles: %v", errs[:min(3, len(errs))])
	}
}

// pg_wal on another file system: the freeze holds pg_backup_start, the
// thaw ends it and writes backup_label into label_dir; the two file
// systems' snapshots taken one after the other (not simultaneous) are
// restored as docs/postgresql.md says, with every transaction
// acknowledged before the freeze.
func TestPostgreSQLSplitWAL(t *testing.T) {
	d, s := newPGRig(t, true, "", "")
	d.writer = s.Writer(t)
	defer d.writer.Stop()
	simtest.Eventually(t, 10*time.Second, "the writer writes", func() bool { return d.writer.Count() > 20 })
	for _, caller := range []string{"veeam", "vmware"} {
		h := d.harness(t, caller)
		p := s.Prober()
		f := h.Freeze(t)
		mustOK(t, f)
		if caller == "veeam" && !strings.Contains(f.Stdout, "pg_backup_start held") {
			t.Fatalf("freeze with pg_wal elsewhere: %s", f.Stdout)
		}
		acked := d.writer.Acked(time.Now())
		tmp := dbtest.TempDir(t, "")
		data, wal := filepath.Join(tmp, "data"), filepath.Join(tmp, "wal")
		if _, err := s.loop.Snapshot(data); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // not simultaneous: writes go on between the two
		if _, err := s.wal.Snapshot(wal); err != nil {
			t.Fatal(err)
		}
		th := h.Thaw(t)
		mustOK(t, th)
		if ok, refused, first := p.End(); refused > 0 || ok == 0 {
			t.Fatalf("%d connections refused (%d accepted): %v", refused, ok, first)
		}
		labels, _ := filepath.Glob(filepath.Join(s.labels, "pg-*"))
		if len(labels) == 0 {
			t.Fatalf("no backup label in %s; thaw said %s\nlog:\n%s", s.labels, th.Stdout, tailLines(d.log(t), 10))
		}
		if _, err := os.Stat(filepath.Join(s.loop.Dir, "backup_label")); !os.IsNotExist(err) {
			t.Fatal("a backup_label in the live data directory")
		}
		label := labels[len(labels)-1]
		if err := os.Remove(filepath.Join(data, "pg_wal")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(wal, "pg_wal"), filepath.Join(data, "pg_wal")); err != nil {
			t.Fatal(err)
		}
		rep := dbtest.VerifyPGCopy(t, data, s.user, acked, &dbtest.PGRestore{LabelDir: label, Archive: s.archive})
		if rep.Wrong() != "" || !strings.Contains(rep.Log, "completed backup recovery") {
			t.Fatalf("%s: the restored base backup: %s\n%s", caller, rep.Wrong(), rep.Log)
		}
		t.Logf("%s: restored with %s: %d acknowledged transactions, all there", caller, label, len(acked))
		for _, l := range labels {
			os.RemoveAll(l)
		}
	}
}

// quiesceBackends counts the server's sessions of quiesce's holders.
func quiesceBackends(t *testing.T, s *pgServer) int {
	n, err := s.p.Count(context.Background(), "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'quiesce'")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The faults of a PostgreSQL freeze holding pg_backup_start.
func TestPostgreSQLFaults(t *testing.T) {
	d, s := newPGRig(t, false, "pg_backup = always\n", "deadline = 5s\n")
	q := func(args ...string) (int, string) { return runQ(t, d.env, args...) }
	after := func(t *testing.T) {
		t.Cleanup(func() {
			q("veeam", "post-thaw")
			simtest.Eventually(t, 10*time.Second, "no holder left", func() bool { return len(holderPIDs(d.bin)) == 0 })
		})
	}
	t.Run("check", func(t *testing.T) {
		code, out := q("check", "veeam")
		t.Logf("check: exit %d\n%s", code, out)
		for _, want := range []string{"pg: PostgreSQL server, frozen online (method online)", "connection works: PostgreSQL 15", "pg_backup_start held from the freeze to the thaw (pg_backup = always; archive_mode on)",
			"veeam     lock within 3.75s (limit 10m0s per freeze); held until the thaw, at most 5s"} {
			if !strings.Contains(out, want) {
				t.Errorf("check does not say %q", want)
			}
		}
	})
	t.Run("thaw never comes", func(t *testing.T) {
		after(t)
		if code, out := q("veeam", "pre-freeze"); code != 0 {
			t.Fatal(out)
		}
		if quiesceBackends(t, s) != 1 {
			t.Fatal("no session holds pg_backup_start")
		}
		simtest.Eventually(t, 15*time.Second, "the watchdog ends the backup at the deadline", func() bool { return quiesceBackends(t, s) == 0 })
		code, out := q("veeam", "post-thaw")
		t.Logf("late thaw: exit %d %s", code, out)
		if code == 0 || !strings.Contains(out, "late thaw") || !strings.Contains(out, "PostgreSQL lock was released") {
			t.Fatalf("late thaw: exit %d %s", code, out)
		}
	})
	t.Run("holder killed", func(t *testing.T) {
		after(t)
		if code, out := q("veeam", "pre-freeze"); code != 0 {
			t.Fatal(out)
		}
		if err := proc.Signal(holderOf(t, d), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		simtest.Eventually(t, 5*time.Second, "the server aborts the backup", func() bool { return quiesceBackends(t, s) == 0 })
		code, out := q("veeam", "post-thaw")
		t.Logf("thaw after the holder was killed: exit %d %s", code, out)
		if code == 0 || !strings.Contains(out, "SUSPECT") {
			t.Fatalf("thaw after the holder was killed: exit %d %s", code, out)
		}
		log, _ := os.ReadFile(s.p.Log)
		if !strings.Contains(string(log), "aborting backup due to backend exiting") {
			t.Fatalf("the server did not abort the backup:\n%s", log)
		}
	})
	t.Run("server down", func(t *testing.T) {
		after(t)
		s.p.Stop()
		code, out := q("veeam", "pre-freeze")
		t.Logf("exit %d %s", code, out)
		if code == 0 || !strings.Contains(out, "no PostgreSQL server listens on "+s.p.SockDir) {
			t.Fatalf("freeze of a stopped server: exit %d %s", code, out)
		}
		if len(holderPIDs(d.bin)) > 0 {
			t.Fatal("a holder was started for a stopped server")
		}
	})
}

// Credentials: a role peer authentication refuses fails the freeze with
// one line; a .pgpass others can read is refused before anything is
// done, with the configuration's exit code.
func TestPostgreSQLCredentials(t *testing.T) {
	d, _ := newPGRig(t, false, "db_user = nosuchrole\n", "")
	code, out := runQ(t, d.env, "veeam", "pre-freeze")
	t.Logf("wrong role: exit %d %s", code, out)
	if code == 0 || !strings.Contains(out, "Peer authentication failed") || strings.Count(strings.TrimSpace(out), "\n") > 0 {
		t.Fatalf("wrong role: exit %d %q", code, out)
	}
	cred := filepath.Join(dbtest.TempDir(t, ""), "pgpass")
	if err := os.WriteFile(cred, []byte("localhost:*:*:nosuchrole:secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	body, _ := os.ReadFile(d.cfg)
	if err := os.WriteFile(d.cfg, []byte(strings.Replace(string(body), "db_user = nosuchrole", "db_user = nosuchrole\ncredentials = "+cred, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out = runQ(t, d.env, "veeam", "pre-freeze")
	t.Logf("unsafe .pgpass: exit %d %s", code, out)
	if code == 0 || !strings.Contains(out, "group or others may read it") {
		t.Fatalf("freeze with a .pgpass others can read: exit %d %q", code, out)
	}
	if code, out := runQ(t, d.env, "check"); code != 6 || !strings.Contains(out, "chmod 600") {
		t.Fatalf("check with a .pgpass others can read: exit %d %s", code, out)
	}
	if strings.Contains(d.log(t), "secret") {
		t.Fatal("the password is in the log")
	}
}

// method = auto with the stop configured: a freeze the online method
// cannot do (pg_wal elsewhere forced by pg_backup = always, archive_mode
// off) falls back to stopping the server, and says so; the thaw starts
// it again.
func TestPostgreSQLAutoFallsBackToStop(t *testing.T) {
	if testing.Short() {
		t.Skip("real PostgreSQL servers: not with -short")
	}
	bin := dbtest.RequirePostgres(t)
	user := simtest.User(t)
	loop := dbtest.NewLoop(t, 300, user)
	dbtest.InitPostgres(t, loop.Dir, "", user)
	p := dbtest.StartPostgres(t, loop.Dir, user, dbtest.PGOptions{}) // archive_mode off
	opts := fmt.Sprintf("-c port=%d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s", p.Port, p.SockDir)
	logFile := filepath.Join(p.SockDir, "pg_ctl.log")
	ctl := func(args ...string) string {
		b, _ := json.Marshal(append([]string{filepath.Join(bin, "pg_ctl"), "-D", loop.Dir}, args...))
		return string(b)
	}
	t.Cleanup(func() {
		_ = exec.Command("setpriv", "--reuid", user, "--regid", user, "--init-groups", "--", filepath.Join(bin, "pg_ctl"), "-D", loop.Dir, "-m", "fast", "-w", "stop").Run()
	})
	target := fmt.Sprintf("[target pg]\nkind = postgresql\nmethod = auto\npg_backup = always\nuser = %s\nsocket = %s\nport = %d\ndata_dir = %s\n"+
		"manager = commands\nstart = %s\nstop = %s\nprocess_path = %s\nready_tcp = 127.0.0.1:%d\nstop_timeout = 30s\nstart_timeout = 30s\n",
		user, p.SockDir, p.Port, loop.Dir, ctl("-l", logFile, "-w", "-o", opts, "start"), ctl("-m", "fast", "-w", "stop"), bin, p.Port)
	d := newDBRig(t, loop, &pgServer{p: p, loop: loop, user: user}, target, "")
	code, out := runQ(t, d.env, "veeam", "pre-freeze")
	t.Logf("freeze: exit %d %s", code, out)
	if code != 0 || !strings.Contains(out, "archive_mode is off") || !strings.Contains(out, "fell back to stop/start") {
		t.Fatalf("auto freeze without archiving: exit %d %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(p.SockDir, fmt.Sprintf(".s.PGSQL.%d", p.Port))); !os.IsNotExist(err) {
		t.Fatal("the server still listens after the fallback's stop")
	}
	code, out = runQ(t, d.env, "veeam", "post-thaw")
	t.Logf("thaw: exit %d %s", code, out)
	if code != 0 {
		t.Fatalf("thaw: %s", out)
	}
	simtest.Eventually(t, 20*time.Second, "the server serves after the thaw", func() bool {
		n, err := p.Count(context.Background(), "SELECT 1")
		return err == nil && n == 1
	})
}
