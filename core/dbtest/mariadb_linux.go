package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// MariaDB is a mariadbd started by a test.
type MariaDB struct {
	Data   string // its data directory (binary logs in it)
	Socket string
	Run    string // socket, pid file and error log: outside the data
	User   string // the OS user it runs as
	cmd    *exec.Cmd
	exited chan struct{}
	t      testing.TB
}

// RequireMariaDB skips (fails in CI) when the server is not installed.
func RequireMariaDB(t testing.TB) {
	t.Helper()
	for _, p := range []string{"mariadbd", "mariadb-install-db"} {
		if _, err := exec.LookPath(p); err != nil {
			simtest.Require(t, false, p+" is not installed (apt-get install mariadb-server)")
		}
	}
}

// InstallMariaDB creates a server's system tables in data, as the OS
// user owner: root@localhost and owner@localhost authenticate by
// unix_socket.
func InstallMariaDB(t testing.TB, data, owner string) {
	t.Helper()
	RequireMariaDB(t)
	cmd := asUser(owner, "mariadb-install-db", "--no-defaults", "--datadir="+data, "--skip-test-db",
		"--auth-root-authentication-method=socket", "--skip-name-resolve")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
}

// MariaDBOptions shape a server.
type MariaDBOptions struct {
	NoRepair bool     // a copy's server: no automatic MyISAM/Aria repair
	Extra    []string // more server options
}

// StartMariaDB starts a server on data as owner, its socket in a
// directory of its own, and waits until it accepts connections.
func StartMariaDB(t testing.TB, data, owner string, o MariaDBOptions) *MariaDB {
	t.Helper()
	run := TempDir(t, owner)
	m := &MariaDB{Data: data, Socket: filepath.Join(run, "mysqld.sock"), Run: run, User: owner, t: t, exited: make(chan struct{})}
	args := []string{"mariadbd", "--no-defaults", "--datadir=" + data, "--socket=" + m.Socket, "--skip-networking",
		"--pid-file=" + filepath.Join(run, "mysqld.pid"), "--log-error=" + m.ErrorLog(), "--log-bin=binlog", "--server-id=1",
		"--innodb-buffer-pool-size=32M", "--innodb-log-file-size=16M", "--tmpdir=" + run, "--skip-name-resolve"}
	if o.NoRepair {
		args = append(args, "--myisam-recover-options=OFF", "--aria-recover-options=OFF")
	}
	m.cmd = asUser(owner, append(args, o.Extra...)...)
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("mariadbd: %v", err)
	}
	go func() { _ = m.cmd.Wait(); close(m.exited) }()
	t.Cleanup(m.Stop)
	if err := m.waitReady(60 * time.Second); err != nil {
		log, _ := os.ReadFile(m.ErrorLog())
		t.Fatalf("mariadbd did not start: %v\n%s", err, log)
	}
	return m
}

// ErrorLog is the server's error log.
func (m *MariaDB) ErrorLog() string { return filepath.Join(m.Run, "error.log") }

func (m *MariaDB) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		select {
		case <-m.exited:
			return fmt.Errorf("it exited")
		default:
		}
		db := m.open("root")
		err := db.Ping()
		db.Close()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (m *MariaDB) open(user string) *sql.DB {
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr, cfg.User = "unix", m.Socket, user
	cfg.Timeout = 5 * time.Second
	cfg.MultiStatements = true
	conn, _ := mysql.NewConnector(cfg)
	return sql.OpenDB(conn)
}

// DB is a connection pool as root (unix_socket: the test runs as root).
func (m *MariaDB) DB(t testing.TB) *sql.DB {
	t.Helper()
	db := m.open("root")
	t.Cleanup(func() { db.Close() })
	return db
}

// Exec runs statements as root and fails the test on an error.
func (m *MariaDB) Exec(t testing.TB, stmts ...string) {
	t.Helper()
	db := m.open("root")
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// Write runs one statement as root on a connection of its own.
func (m *MariaDB) Write(stmt string) error {
	db := m.open("root")
	defer db.Close()
	_, err := db.Exec(stmt)
	return err
}

// Stop shuts the server down (SIGTERM: a clean shutdown) and waits.
func (m *MariaDB) Stop() {
	select {
	case <-m.exited:
		return
	default:
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.exited:
	case <-time.After(60 * time.Second):
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		<-m.exited
	}
}

// Kill kills the server (SIGKILL).
func (m *MariaDB) Kill() {
	_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
	<-m.exited
}

// CheckTables runs CHECK TABLE on each table and returns every message
// that is not "status OK" ("1 client is using or hasn't closed the table
// properly", corruption).
func CheckTables(ctx context.Context, db *sql.DB, tables ...string) ([]string, error) {
	var bad []string
	for _, tb := range tables {
		rows, err := db.QueryContext(ctx, "CHECK TABLE "+tb)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var table, op, typ, text string
			if err := rows.Scan(&table, &op, &typ, &text); err != nil {
				rows.Close()
				return nil, err
			}
			if !(typ == "status" && text == "OK") {
				bad = append(bad, table+": "+typ+" "+text)
			}
		}
		rows.Close()
	}
	return bad, nil
}

// NonTransactional lists the MyISAM and Aria tables of the server (the
// system tables too), as db.table.
func NonTransactional(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT CONCAT(table_schema, '.', table_name) FROM information_schema.tables WHERE engine IN ('MyISAM', 'Aria') AND table_schema NOT IN ('information_schema', 'performance_schema')")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// Quote is a MariaDB string literal.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}
