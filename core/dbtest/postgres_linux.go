package dbtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// Postgres is a PostgreSQL server started by a test.
type Postgres struct {
	Data    string // its data directory
	SockDir string // its socket directory
	Port    int    // on 127.0.0.1 (trust for the test's own clients) and in the socket's name
	User    string // the OS user it runs as, and its superuser role
	Log     string
	bin     string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// PGBin is the directory of the newest PostgreSQL (15 or later)
// installed the Debian way; "" when none.
func PGBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Strings(dirs)
	for i := len(dirs) - 1; i >= 0; i-- {
		v := filepath.Base(filepath.Dir(filepath.Dir(dirs[i])))
		if len(v) >= 2 && v >= "15" {
			return filepath.Dir(dirs[i])
		}
	}
	return ""
}

// RequirePostgres skips (fails in CI) when PostgreSQL 15+ is not
// installed.
func RequirePostgres(t testing.TB) string {
	t.Helper()
	bin := PGBin()
	if bin == "" {
		simtest.Require(t, false, "PostgreSQL 15 or later is not installed (apt-get install postgresql)")
	}
	return bin
}

// InitPostgres creates a cluster in data as the OS user owner (its
// superuser role has the owner's name): peer authentication on the
// socket, trust on 127.0.0.1 for the test's clients; with waldir, pg_wal
// there.
func InitPostgres(t testing.TB, data, waldir, owner string) {
	t.Helper()
	bin := RequirePostgres(t)
	args := []string{filepath.Join(bin, "initdb"), "-D", data, "-U", owner, "--auth-local=peer", "--auth-host=trust", "-N", "-E", "UTF8", "--locale=C"}
	if waldir != "" {
		args = append(args, "--waldir="+waldir)
	}
	if out, err := asUser(owner, args...).CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
}

// PGOptions shape a server.
type PGOptions struct {
	Archive string   // archive_mode on, archive_command copies to this directory
	Extra   []string // more -c settings
}

// StartPostgres starts a server on data as owner and waits until it
// accepts connections. The port is probed free first; should another
// process take it before the server binds it (tests of several packages
// run at once), the server is started again on another.
func StartPostgres(t testing.TB, data, owner string, o PGOptions) *Postgres {
	t.Helper()
	bin := RequirePostgres(t)
	run := TempDir(t, owner)
	for try := 1; ; try++ {
		p := &Postgres{Data: data, SockDir: run, Port: freePort(t), User: owner, Log: filepath.Join(run, "postgres.log"), bin: bin, exited: make(chan struct{})}
		err := p.start(o)
		if err == nil {
			t.Cleanup(p.Stop)
			return p
		}
		p.Stop()
		b, _ := os.ReadFile(p.Log)
		if try < 5 && bytes.Contains(b, []byte("Address already in use")) {
			continue
		}
		t.Fatalf("postgres did not start: %v\n%s", err, b)
	}
}

// start launches the server and waits until it accepts connections.
func (p *Postgres) start(o PGOptions) error {
	args := []string{filepath.Join(p.bin, "postgres"), "-D", p.Data, "-c", fmt.Sprintf("port=%d", p.Port), "-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=" + p.SockDir, "-c", "shared_buffers=16MB", "-c", "max_wal_size=64MB", "-c", "min_wal_size=32MB",
		"-c", "logging_collector=off"}
	if o.Archive != "" {
		args = append(args, "-c", "archive_mode=on", "-c", "archive_command=test ! -f "+o.Archive+"/%f && cp %p "+o.Archive+"/%f")
	}
	for _, e := range o.Extra {
		args = append(args, "-c", e)
	}
	p.cmd = asUser(p.User, args...)
	logf, err := os.Create(p.Log)
	if err != nil {
		close(p.exited)
		return err
	}
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		close(p.exited)
		return fmt.Errorf("postgres: %w", err)
	}
	go func() { _ = p.cmd.Wait(); logf.Close(); close(p.exited) }()
	return p.waitReady(60 * time.Second)
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (p *Postgres) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		select {
		case <-p.exited:
			return fmt.Errorf("it exited")
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := p.connect(ctx)
		cancel()
		if err == nil {
			c.Close(context.Background())
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// connect opens a connection as the superuser over TCP (trust).
func (p *Postgres) connect(ctx context.Context) (*pgx.Conn, error) {
	return pgx.Connect(ctx, fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=postgres sslmode=disable passfile=/dev/null", p.Port, p.User))
}

// Conn is a connection for the test, closed by Cleanup.
func (p *Postgres) Conn(t testing.TB) *pgx.Conn {
	t.Helper()
	c, err := p.connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// Count runs a query that returns one number, on a connection of its own.
func (p *Postgres) Count(ctx context.Context, query string) (int, error) {
	c, err := p.connect(ctx)
	if err != nil {
		return 0, err
	}
	defer c.Close(context.Background())
	var n int
	err = c.QueryRow(ctx, query).Scan(&n)
	return n, err
}

// Exec runs statements and fails the test on an error.
func (p *Postgres) Exec(t testing.TB, stmts ...string) {
	t.Helper()
	c := p.Conn(t)
	for _, s := range stmts {
		if _, err := c.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// Stop shuts the server down (SIGINT: a fast shutdown) and waits.
func (p *Postgres) Stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
}

// PGTables are the workload's tables: a logged one, and an unlogged one
// (truncated by crash recovery: empty in every snapshot's server).
var PGTables = []string{"q_logged", "q_unlogged"}

// SetupPGWork creates the workload's tables.
func SetupPGWork(t testing.TB, p *Postgres) {
	t.Helper()
	p.Exec(t, "CREATE TABLE q_logged (i int PRIMARY KEY, pad text)", "CREATE UNLOGGED TABLE q_unlogged (i int PRIMARY KEY, pad text)")
}

// PGWriter writes transaction i into both tables, one transaction each;
// it is acknowledged once both committed.
func PGWriter(t testing.TB, p *Postgres) *Writer {
	c := p.Conn(t)
	return Write(func(ctx context.Context, i int) error {
		for _, tb := range PGTables {
			if _, err := c.Exec(ctx, fmt.Sprintf("INSERT INTO %s VALUES (%d, repeat('x', 200))", tb, i)); err != nil {
				return err
			}
		}
		return nil
	})
}

// PGProber opens a connection every 100 ms and reads.
func PGProber(p *Postgres) *Prober {
	return Probe(100*time.Millisecond, func(ctx context.Context) error {
		c, err := p.connect(ctx)
		if err != nil {
			return err
		}
		defer c.Close(context.Background())
		var n int
		return c.QueryRow(ctx, "SELECT count(*) FROM q_logged").Scan(&n)
	})
}

// PGCopy is what a server started from a snapshot shows.
type PGCopy struct {
	Recovery time.Duration  // from its start to accepting connections
	Missing  int            // acknowledged transactions not in q_logged
	Rows     map[string]int // rows per table
	Log      string         // the copy's server log
}

var (
	redoStart = regexp.MustCompile(`redo starts at ([0-9A-F]+)/([0-9A-F]+)`)
	redoDone  = regexp.MustCompile(`redo done at ([0-9A-F]+)/([0-9A-F]+).*elapsed: ([0-9.]+) s`)
)

// Redo is how much WAL the copy's recovery replayed, and how long its
// redo took, from its log (0 when it needed none).
func (r PGCopy) Redo() (bytes int64, took time.Duration) {
	a, b := redoStart.FindStringSubmatch(r.Log), redoDone.FindStringSubmatch(r.Log)
	if a == nil || b == nil {
		return 0, 0
	}
	lsn := func(hi, lo string) int64 {
		h, _ := strconv.ParseInt(hi, 16, 64)
		l, _ := strconv.ParseInt(lo, 16, 64)
		return h<<32 | l
	}
	secs, _ := strconv.ParseFloat(b[3], 64)
	return lsn(b[1], b[2]) - lsn(a[1], a[2]), time.Duration(secs * float64(time.Second))
}

// PGRestore prepares a copy for an archive recovery as docs/postgresql.md
// says: backup_label (and tablespace_map) from labelDir, recovery.signal,
// restore_command reading archive, recovery ending once consistent.
type PGRestore struct {
	LabelDir, Archive string
}

// VerifyPGCopy starts a second server on the copy in dir (after restore
// preparations, if any) and counts the transactions of acked missing
// from the logged table.
func VerifyPGCopy(t testing.TB, dir, owner string, acked []int, restore *PGRestore) (rep PGCopy) {
	t.Helper()
	chownTree(t, dir, owner)
	_ = os.Chmod(dir, 0o700)
	_ = os.Remove(filepath.Join(dir, "postmaster.pid"))
	var extra []string
	if restore != nil {
		for _, f := range []string{"backup_label", "tablespace_map"} {
			if b, err := os.ReadFile(filepath.Join(restore.LabelDir, f)); err == nil {
				if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "recovery.signal"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		chownTree(t, dir, owner)
		extra = []string{"restore_command=cp " + restore.Archive + "/%f %p", "recovery_target=immediate", "recovery_target_action=promote"}
	}
	began := time.Now()
	p := StartPostgres(t, dir, owner, PGOptions{Extra: extra})
	rep = PGCopy{Recovery: time.Since(began), Rows: map[string]int{}}
	defer func() {
		p.Stop()
		b, _ := os.ReadFile(p.Log)
		rep.Log = string(b)
	}()
	c := p.Conn(t)
	ctx := context.Background()
	if restore != nil {
		simtest.Eventually(t, 30*time.Second, "the restored copy is promoted", func() bool {
			var rec bool
			return c.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&rec) == nil && !rec
		})
	}
	for _, tb := range PGTables {
		rows, err := c.Query(ctx, "SELECT i FROM "+tb)
		if err != nil {
			t.Fatal(err)
		}
		have := map[int32]bool{}
		for rows.Next() {
			var i int32
			if rows.Scan(&i) == nil {
				have[i] = true
			}
		}
		rows.Close()
		rep.Rows[tb] = len(have)
		if tb == "q_logged" {
			for _, i := range acked {
				if !have[int32(i)] {
					rep.Missing++
				}
			}
		}
	}
	return rep
}

// Wrong says what the copy shows wrong, "" when nothing: a missing
// acknowledged transaction, or an unlogged table that is not empty
// (crash recovery truncates it: a copy where it is not was not
// recovered).
func (r PGCopy) Wrong() string {
	var w []string
	if r.Missing > 0 {
		w = append(w, fmt.Sprintf("%d acknowledged transactions missing", r.Missing))
	}
	if r.Rows["q_unlogged"] != 0 {
		w = append(w, fmt.Sprintf("the unlogged table has %d rows (crash recovery empties it)", r.Rows["q_unlogged"]))
	}
	return strings.Join(w, "; ")
}
