//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/core/dbtest"
)

// BenchmarkDatabaseFreeze: what a database freeze and thaw add on top of
// the server's own time to take and to end the lock (as the holder
// measured it: BACKUP STAGE START + BLOCK_COMMIT, CHECKPOINT,
// pg_backup_start / pg_backup_stop), for the real quiesce binary run by a
// caller (veeam pre-freeze, post-thaw). noop-ms is a run of the same hook
// with nothing to do (a thaw with nothing frozen): the floor of any hook
// on this machine, which both overheads include. Target (issue 25, not
// asserted): overhead <= 10 ms.
func BenchmarkDatabaseFreeze(b *testing.B) {
	if testing.Short() {
		b.Skip("real database servers")
	}
	user := simtest.User(b)
	for _, kind := range []string{"mariadb", "postgresql-checkpoint", "postgresql-backup"} {
		b.Run(kind, func(b *testing.B) {
			dir := b.TempDir()
			var target string
			switch kind {
			case "mariadb":
				dbtest.RequireMariaDB(b)
				data := dbtest.TempDir(b, user)
				dbtest.InstallMariaDB(b, data, user)
				m := dbtest.StartMariaDB(b, data, user, dbtest.MariaDBOptions{})
				target = fmt.Sprintf("[target db]\nkind = mariadb\nsocket = %s\n", m.Socket)
			default:
				dbtest.RequirePostgres(b)
				data := filepath.Join(dbtest.TempDir(b, user), "data")
				dbtest.InitPostgres(b, data, "", user)
				p := dbtest.StartPostgres(b, data, user, dbtest.PGOptions{Archive: dbtest.TempDir(b, user)})
				mode := map[string]string{"postgresql-checkpoint": "never", "postgresql-backup": "always"}[kind]
				target = fmt.Sprintf("[target db]\nkind = postgresql\nuser = %s\nsocket = %s\nport = %d\npg_backup = %s\nlabel_dir = %s\n",
					user, p.SockDir, p.Port, mode, filepath.Join(dir, "labels"))
			}
			cfg := filepath.Join(dir, "quiesce.conf")
			if err := os.WriteFile(cfg, []byte(target+"\n[freeze]\nstate_dir = "+filepath.Join(dir, "state")+"\n"), 0o644); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { simtest.KillWatchdogs(filepath.Join(dir, "state")) })
			logFile := filepath.Join(dir, "q.log")
			m := map[string][]float64{}
			for i := 0; i < b.N; i++ {
				f := statRun(b, cfg, logFile, "veeam", "pre-freeze")
				lock := lastField(b, logFile, "database lock taken", "took_ms")
				t := statRun(b, cfg, logFile, "veeam", "post-thaw")
				m["freeze-overhead-ms"] = append(m["freeze-overhead-ms"], float64(f.wall)/1e6-lock)
				m["lock-ms"] = append(m["lock-ms"], lock)
				m["freeze-cpu-ms"] = append(m["freeze-cpu-ms"], f.cpu)
				if kind != "postgresql-checkpoint" { // nothing is held: no release
					release := lastField(b, logFile, "database lock released", "release_ms")
					m["thaw-overhead-ms"] = append(m["thaw-overhead-ms"], float64(t.wall)/1e6-release)
					m["release-ms"] = append(m["release-ms"], release)
				} else {
					m["thaw-overhead-ms"] = append(m["thaw-overhead-ms"], float64(t.wall)/1e6)
				}
				m["peak-rss-MB"] = append(m["peak-rss-MB"], max(f.rss, t.rss))
				m["noop-ms"] = append(m["noop-ms"], float64(statRun(b, cfg, logFile, "veeam", "post-thaw").wall)/1e6)
			}
			report(b, m)
		})
	}
}

// lastField is the number field of the last log line with message msg.
func lastField(b *testing.B, logFile, msg, field string) float64 {
	b.Helper()
	f, err := os.Open(logFile)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	v, found := 0.0, false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == msg {
			if x, ok := line[field].(float64); ok {
				v, found = x, true
			}
		}
	}
	if !found {
		b.Fatalf("no %q with %s in %s", msg, field, logFile)
	}
	return v
}
