package dbtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// MariaDBTables are the workload's tables: one per kind of table a
// snapshot treats differently.
var MariaDBTables = []string{"q.inno", "q.isam", "q.aria", "q.ariat"}

// SetupMariaDBWork creates the workload's tables: InnoDB, MyISAM, Aria
// without and with its transaction log.
func SetupMariaDBWork(t testing.TB, m *MariaDB) {
	t.Helper()
	m.Exec(t, "CREATE DATABASE q",
		"CREATE TABLE q.inno (i INT PRIMARY KEY) ENGINE=InnoDB",
		"CREATE TABLE q.isam (i INT PRIMARY KEY, pad CHAR(200)) ENGINE=MyISAM",
		"CREATE TABLE q.aria (i INT PRIMARY KEY, pad CHAR(200)) ENGINE=Aria TRANSACTIONAL=0",
		"CREATE TABLE q.ariat (i INT PRIMARY KEY) ENGINE=Aria TRANSACTIONAL=1")
}

// MariaDBWriter writes transaction i into every table of the workload;
// it is acknowledged once all of them returned.
func MariaDBWriter(t testing.TB, m *MariaDB) *Writer {
	db := m.DB(t)
	db.SetMaxOpenConns(1)
	return Write(func(ctx context.Context, i int) error {
		for _, tb := range MariaDBTables {
			q := fmt.Sprintf("INSERT INTO %s (i) VALUES (%d)", tb, i)
			if _, err := db.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
}

// MariaDBProber opens a connection every 100 ms and reads.
func MariaDBProber(m *MariaDB) *Prober {
	return Probe(100*time.Millisecond, func(ctx context.Context) error {
		db := m.open("root")
		defer db.Close()
		var n int
		return db.QueryRowContext(ctx, "SELECT COUNT(*) FROM q.inno").Scan(&n)
	})
}

// CopyReport is what a server started from a snapshot shows.
type CopyReport struct {
	Recovery  time.Duration  // from the start to accepting connections
	Missing   map[string]int // per table: acknowledged transactions not in the copy
	Rows      map[string]int // per table: rows in the copy
	NotClean  []string       // CHECK TABLE messages other than "status OK"
	BinlogLen int64          // size of the binary log file the freeze named, in the copy
	GTID      string         // the copy's gtid_binlog_pos
}

// VerifyMariaDBCopy starts a second server on the copy in dir (no
// automatic repair), checks every table (the system tables too) and
// counts, per table, the transactions of acked that are missing.
// binlogFile names the binary log whose size is reported ("": none).
func VerifyMariaDBCopy(t testing.TB, dir, owner string, acked []int, binlogFile string) CopyReport {
	t.Helper()
	chownTree(t, dir, owner)
	_ = os.Remove(filepath.Join(dir, "mysqld.pid"))
	began := time.Now()
	m := StartMariaDB(t, dir, owner, MariaDBOptions{NoRepair: true})
	rep := CopyReport{Recovery: time.Since(began), Missing: map[string]int{}, Rows: map[string]int{}}
	defer m.Stop()
	ctx := context.Background()
	db := m.open("root")
	defer db.Close()
	// CHECK TABLE first: reading a table does not mark it, but check
	// before anything else touches it.
	tables, err := NonTransactional(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if rep.NotClean, err = CheckTables(ctx, db, tables...); err != nil {
		t.Fatal(err)
	}
	for _, tb := range MariaDBTables {
		have := map[int]bool{}
		rows, err := db.QueryContext(ctx, "SELECT i FROM "+tb)
		if err != nil {
			rep.NotClean = append(rep.NotClean, tb+": "+err.Error())
			continue
		}
		for rows.Next() {
			var i int
			if rows.Scan(&i) == nil {
				have[i] = true
			}
		}
		rows.Close()
		rep.Rows[tb] = len(have)
		for _, i := range acked {
			if !have[i] {
				rep.Missing[tb]++
			}
		}
	}
	_ = db.QueryRowContext(ctx, "SELECT @@global.gtid_binlog_pos").Scan(&rep.GTID)
	if binlogFile != "" {
		if st, err := os.Stat(filepath.Join(dir, binlogFile)); err == nil {
			rep.BinlogLen = st.Size()
		}
	}
	return rep
}

// Clean reports whether every acknowledged transaction is in every table
// and every table checks clean.
func (r CopyReport) Clean() bool {
	for _, n := range r.Missing {
		if n > 0 {
			return false
		}
	}
	return len(r.NotClean) == 0
}

// BinlogMatches reports whether the copy's binary log ends where the
// freeze said: file size = position, and the copy's GTID the freeze's.
func (r CopyReport) BinlogMatches(pos, gtid string) bool {
	p, err := strconv.ParseInt(pos, 10, 64)
	return err == nil && p == r.BinlogLen && strings.TrimSpace(r.GTID) == strings.TrimSpace(gtid)
}

// chownTree gives a copy to the server's user (cp -a kept the owners:
// this is for a copy made by another user).
func chownTree(t testing.TB, dir, owner string) {
	t.Helper()
	if owner == "" {
		return
	}
	if out, err := execOut("chown", "-R", owner+":", dir); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
}
