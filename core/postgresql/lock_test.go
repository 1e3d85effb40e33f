//go:build linux

package postgresql_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/dbtest"
	"github.com/quiesce/quiesce/core/holder"
	"github.com/quiesce/quiesce/core/postgresql"
)

func TestMain(m *testing.M) { os.Exit(simtest.Main(m)) }

// pgServer is a PostgreSQL on a loop file system (with pg_wal on a
// second one when split), archiving WAL, with the workload's tables.
type pgServer struct {
	loop, wal *dbtest.Loop
	p         *dbtest.Postgres
	archive   string
	user      string
}

func newServer(t *testing.T, split bool) *pgServer {
	t.Helper()
	if testing.Short() {
		t.Skip("a real PostgreSQL: not with -short")
	}
	dbtest.RequirePostgres(t)
	user := simtest.User(t)
	s := &pgServer{user: user, loop: dbtest.NewLoop(t, 300, user), archive: dbtest.TempDir(t, user)}
	waldir := ""
	if split {
		s.wal = dbtest.NewLoop(t, 200, user)
		waldir = filepath.Join(s.wal.Dir, "pg_wal")
	}
	dbtest.InitPostgres(t, s.loop.Dir, waldir, user)
	s.p = dbtest.StartPostgres(t, s.loop.Dir, user, dbtest.PGOptions{Archive: s.archive})
	dbtest.SetupPGWork(t, s.p)
	return s
}

// lock is the freeze's lock over TCP (trust), as the holder takes it
// over the socket (peer).
func (s *pgServer) lock(t *testing.T, pgBackup string) holder.Lock {
	t.Helper()
	raw, _ := json.Marshal(postgresql.Conn{SocketDir: "127.0.0.1", Port: s.p.Port, User: s.user, Database: "postgres", PGBackup: pgBackup, Label: "test"})
	l, err := postgresql.NewLock(raw, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// bulk writes some WAL (about 8 MB): what a crash recovery replays.
func (s *pgServer) bulk(t *testing.T, from int) {
	s.p.Exec(t, fmt.Sprintf("INSERT INTO q_logged SELECT g, repeat('b', 1000) FROM generate_series(%d, %d) g", from, from+7999))
}

type measured struct {
	mode                       string
	acquire, release, recovery time.Duration
	blocked                    time.Duration
	redo                       int64 // WAL bytes the copy's recovery replayed
	redoTook                   time.Duration
	wrong                      string
}

// The measurement: the same atomic snapshot (fsfreeze, copy,
// unfreeze) of a PostgreSQL taking writes, with no hook, with CHECKPOINT,
// and with a held pg_backup_start (the copy without its label: crash
// recovery), five times each. Every copy must start and have every
// acknowledged transaction; the unlogged table is empty in every copy.
func TestSnapshotThreeWays(t *testing.T) {
	s := newServer(t, false)
	w := dbtest.PGWriter(t, s.p)
	defer w.Stop()
	simtest.Eventually(t, 10*time.Second, "the writer writes", func() bool { return w.Count() > 20 })
	var all []measured
	n := 100000
	for round := 0; round < 5; round++ {
		for _, mode := range []string{"none", config.PGBackupNever, config.PGBackupAlways} {
			n += 10000
			s.bulk(t, n)
			m := measured{mode: mode}
			began := time.Now()
			var l holder.Lock
			if mode != "none" {
				l = s.lock(t, mode)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				f, err := l.Acquire(ctx)
				cancel()
				if err != nil {
					t.Fatal(err)
				}
				want := map[string]string{config.PGBackupNever: postgresql.ModeCheckpoint, config.PGBackupAlways: postgresql.ModeBackup}[mode]
				if f[holder.FactMode] != want {
					t.Fatalf("mode %s: %v", mode, f)
				}
			}
			m.acquire = time.Since(began)
			acked := w.Acked(time.Now())
			dst := filepath.Join(dbtest.TempDir(t, ""), "copy")
			if _, err := s.loop.Snapshot(dst); err != nil {
				t.Fatal(err)
			}
			rb := time.Now()
			if l != nil {
				if _, err := l.Release(context.Background()); err != nil {
					t.Fatal(err)
				}
				l.Close()
			}
			m.release = time.Since(rb)
			time.Sleep(100 * time.Millisecond)
			m.blocked = w.Blocked(began, time.Now())
			rep := dbtest.VerifyPGCopy(t, dst, s.user, acked, nil)
			m.recovery, m.wrong = rep.Recovery, rep.Wrong()
			m.redo, m.redoTook = rep.Redo()
			if m.wrong != "" {
				t.Fatalf("%s: the copy is wrong: %s\n%s", mode, m.wrong, rep.Log)
			}
			all = append(all, m)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-10s %-22s %-22s %-22s %-22s %-22s %s\n", "hook", "write-blocked med/p99", "acquire med/p99", "release med/p99", "copy start med/p99", "redo time med/p99", "WAL replayed med")
	for _, mode := range []string{"none", config.PGBackupNever, config.PGBackupAlways} {
		var bl, ac, re, rc, rt []time.Duration
		var wal []int64
		for _, m := range all {
			if m.mode == mode {
				bl, ac, re, rc, rt = append(bl, m.blocked), append(ac, m.acquire), append(re, m.release), append(rc, m.recovery), append(rt, m.redoTook)
				wal = append(wal, m.redo)
			}
		}
		sort.Slice(wal, func(i, j int) bool { return wal[i] < wal[j] })
		f := func(ds []time.Duration) string {
			md, p := dbtest.Stats(ds)
			return fmt.Sprintf("%s/%s", md.Round(time.Millisecond), p.Round(time.Millisecond))
		}
		name := map[string]string{"none": "none", config.PGBackupNever: "CHECKPOINT", config.PGBackupAlways: "backup"}[mode]
		fmt.Fprintf(&b, "%-10s %-22s %-22s %-22s %-22s %-22s %.1f MB\n", name, f(bl), f(ac), f(re), f(rc), f(rt), float64(wal[len(wal)/2])/1e6)
	}
	t.Logf("PostgreSQL %s, one file system, 5 snapshots each:\n%s", dbtest.PGBin(), b.String())
}

// With pg_wal on another file system, auto holds pg_backup_start; a copy
// of the two file systems taken one after the other (not simultaneous)
// is restored as the guide says (backup_label from the label directory,
// recovery.signal, the WAL archive) and has every transaction
// acknowledged before the freeze.
func TestSplitWALBackupRestores(t *testing.T) {
	s := newServer(t, true)
	if split, err := postgresql.Split(s.loop.Dir); err != nil || !strings.Contains(split, "pg_wal") {
		t.Fatalf("split: %q %v", split, err)
	}
	w := dbtest.PGWriter(t, s.p)
	defer w.Stop()
	simtest.Eventually(t, 10*time.Second, "the writer writes", func() bool { return w.Count() > 20 })
	l := s.lock(t, config.PGBackupAuto)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	f, err := l.Acquire(ctx)
	cancel()
	if err != nil || f[holder.FactMode] != postgresql.ModeBackup || !strings.Contains(f[postgresql.FactWhy], "pg_wal") {
		t.Fatalf("acquire: %v %v", f, err)
	}
	acked := w.Acked(time.Now())
	tmp := dbtest.TempDir(t, "")
	data, wal := filepath.Join(tmp, "data"), filepath.Join(tmp, "wal")
	if _, err := s.loop.Snapshot(data); err != nil {
		t.Fatal(err)
	}
	s.bulk(t, 500000) // the two snapshots are not simultaneous
	if _, err := s.wal.Snapshot(wal); err != nil {
		t.Fatal(err)
	}
	rel, err := l.Release(context.Background())
	if err != nil || rel[postgresql.FactLabelFile] == "" {
		t.Fatalf("release: %v %v", rel, err)
	}
	if rel[postgresql.FactArchived] < rel[postgresql.FactStopWAL] {
		t.Fatalf("the backup's last segment %s is not archived (last %s)", rel[postgresql.FactStopWAL], rel[postgresql.FactArchived])
	}
	labels := filepath.Join(tmp, "label")
	if err := os.MkdirAll(labels, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(labels, "backup_label"), []byte(rel[postgresql.FactLabelFile]), 0o600); err != nil {
		t.Fatal(err)
	}
	// the restore: the copy's pg_wal link points at the copied WAL
	if err := os.Remove(filepath.Join(data, "pg_wal")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(wal, "pg_wal"), filepath.Join(data, "pg_wal")); err != nil {
		t.Fatal(err)
	}
	rep := dbtest.VerifyPGCopy(t, data, s.user, acked, &dbtest.PGRestore{LabelDir: labels, Archive: s.archive})
	if rep.Wrong() != "" || !strings.Contains(rep.Log, "completed backup recovery") {
		t.Fatalf("restored copy: %s\n%s", rep.Wrong(), rep.Log)
	}
	t.Logf("restored from the base backup in %s: %d of %d acknowledged transactions", rep.Recovery, rep.Rows["q_logged"], len(acked))
}

// pg_backup = auto on one file system is a CHECKPOINT; with archive_mode
// off, a split cluster's freeze is refused with what to do.
func TestAutoModesAndArchiveOff(t *testing.T) {
	s := newServer(t, false)
	l := s.lock(t, config.PGBackupAuto)
	f, err := l.Acquire(context.Background())
	if err != nil || f[holder.FactMode] != postgresql.ModeCheckpoint || f[holder.FactHold] != holder.HoldNone || f[postgresql.FactRedoLSN] == "" {
		t.Fatalf("auto on one file system: %v %v", f, err)
	}
	s.p.Stop()
	s.p = dbtest.StartPostgres(t, s.loop.Dir, s.user, dbtest.PGOptions{})
	l = s.lock(t, config.PGBackupAlways)
	_, err = l.Acquire(context.Background())
	if !errors.Is(err, holder.ErrUnsupported) || !strings.Contains(err.Error(), "archive_mode is off") {
		t.Fatalf("backup with archive_mode off: %v", err)
	}
}
