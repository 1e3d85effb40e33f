//go:build linux

package mariadb_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/core/dbtest"
	"github.com/quiesce/quiesce/core/holder"
	"github.com/quiesce/quiesce/core/mariadb"
)

func TestMain(m *testing.M) { os.Exit(simtest.Main(m)) }

// server is a MariaDB on a loop file system with the workload's tables.
func server(t *testing.T) (*dbtest.Loop, *dbtest.MariaDB, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("a real MariaDB: not with -short")
	}
	dbtest.RequireMariaDB(t)
	user := simtest.User(t)
	loop := dbtest.NewLoop(t, 200, user)
	dbtest.InstallMariaDB(t, loop.Dir, user)
	m := dbtest.StartMariaDB(t, loop.Dir, user, dbtest.MariaDBOptions{})
	dbtest.SetupMariaDBWork(t, m)
	return loop, m, user
}

func lock(t *testing.T, m *dbtest.MariaDB, user, password string) holder.Lock {
	t.Helper()
	raw, _ := json.Marshal(mariadb.Conn{Socket: m.Socket, User: user, Password: password})
	l, err := mariadb.NewLock(raw, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// Under BACKUP STAGE BLOCK_COMMIT, an atomic snapshot of a server taking
// writes is clean: every acknowledged transaction in every table, MyISAM
// and Aria closed (CHECK TABLE finds nothing, with repair off), and the
// binary log ends at the position read under the lock. Without the lock
// (the baseline) the same snapshot leaves MyISAM and Aria "not closed
// properly", as issue 25 measured.
func TestBackupStageSnapshotIsClean(t *testing.T) {
	loop, m, user := server(t)
	ctx := context.Background()
	w := dbtest.MariaDBWriter(t, m)
	defer w.Stop()
	time.Sleep(300 * time.Millisecond)

	l := lock(t, m, "root", "")
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	facts, err := l.Acquire(actx)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	locked := time.Now()
	if facts[holder.FactMode] != mariadb.ModeBackupStage || facts[mariadb.FactBinlogFile] == "" || facts[holder.FactSession] == "" {
		t.Fatalf("facts: %v", facts)
	}
	if s, err := l.Alive(ctx); err != nil || s != facts[holder.FactSession] {
		t.Fatalf("alive: %q %v", s, err)
	}
	copyDir := filepath.Join(dbtest.TempDir(t, ""), "copy")
	if _, err := loop.Snapshot(copyDir); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	n := w.Count()
	simtest.Eventually(t, 5*time.Second, "writes go on after the release", func() bool { return w.Count() > n+5 })
	acked := w.Acked(locked)
	rep := dbtest.VerifyMariaDBCopy(t, copyDir, user, acked, facts[mariadb.FactBinlogFile])
	if !rep.Clean() {
		t.Fatalf("snapshot under BLOCK_COMMIT not clean: %+v", rep)
	}
	if !rep.BinlogMatches(facts[mariadb.FactBinlogPos], facts[mariadb.FactGTIDBinlog]) {
		t.Fatalf("binary log: recorded %s:%s GTID %s, copy has %d bytes GTID %s", facts[mariadb.FactBinlogFile], facts[mariadb.FactBinlogPos],
			facts[mariadb.FactGTIDBinlog], rep.BinlogLen, rep.GTID)
	}
	t.Logf("under the lock: %d acknowledged transactions, all there; recovery %s", len(acked), rep.Recovery)

	// the baseline: the same snapshot without the lock
	baseDir := filepath.Join(dbtest.TempDir(t, ""), "copy")
	taken := time.Now()
	if _, err := loop.Snapshot(baseDir); err != nil {
		t.Fatal(err)
	}
	base := dbtest.VerifyMariaDBCopy(t, baseDir, user, w.Acked(taken), "")
	t.Logf("baseline (no lock): not clean %v, missing %v", base.NotClean, base.Missing)
	if base.Missing["q.inno"] > 0 {
		t.Fatalf("InnoDB lost acknowledged transactions even without a hook: %+v", base)
	}
}

// A long statement on a MyISAM table blocks BACKUP STAGE: with the lock
// wait set from the deadline, Acquire gives up in time with a timeout,
// and the session's end leaves nothing held (writes go on).
func TestBlockedBackupStageGivesUpInTime(t *testing.T) {
	_, m, _ := server(t)
	db := m.DB(t)
	// a row first: on an empty table the UPDATE evaluates no SLEEP
	m.Exec(t, "INSERT INTO q.isam (i) VALUES (1)")
	long := make(chan error, 1)
	go func() {
		_, err := db.Exec("UPDATE q.isam SET pad = 'x' WHERE SLEEP(6) = 0")
		long <- err
	}()
	simtest.Eventually(t, 5*time.Second, "the long UPDATE runs", func() bool {
		var n int
		err := db.QueryRow("SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'UPDATE q.isam%'").Scan(&n)
		return err == nil && n == 1
	})
	l := lock(t, m, "root", "")
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := l.Acquire(ctx)
	took := time.Since(began)
	if !errors.Is(err, holder.ErrTimeout) {
		t.Fatalf("acquire against a long MyISAM statement: %v", err)
	}
	if took > 3*time.Second || took < time.Second {
		t.Fatalf("gave up after %s, not at its deadline (2.5s)", took)
	}
	l.Close()
	if err := <-long; err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := db.Exec("INSERT INTO q.inno VALUES (424242)"); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("writes still blocked after the freeze gave up")
	}
}

// Credentials the server refuses are told apart (no fallback to a stop).
func TestWrongCredentials(t *testing.T) {
	_, m, _ := server(t)
	l := lock(t, m, "nobody_here", "wrong")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := l.Acquire(ctx)
	if !errors.Is(err, holder.ErrAuth) || !strings.Contains(err.Error(), "Access denied") {
		t.Fatalf("wrong credentials: %v", err)
	}
}
