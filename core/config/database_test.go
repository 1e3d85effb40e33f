package config

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestDatabaseTargets(t *testing.T) {
	if runtime.GOOS == "windows" {
		_, err := ParseNative("q.conf", []byte("[target pg]\nkind = postgresql\n"))
		if err == nil || !strings.Contains(err.Error(), "q.conf:2: target pg.kind: database freezes run on Linux only") {
			t.Fatalf("a database target on Windows: %v", err)
		}
		return
	}
	d, err := ParseNative("q.conf", []byte("[target pg]\nkind = postgresql\ndata_dir = /srv/pg\n\n[target db]\nkind = mariadb\ncredentials = /etc/quiesce/db.cnf\nmax_hold = 90s\nmanager = systemd\nunit = mariadb.service\nready_tcp = 127.0.0.1:3306\n"))
	if err != nil {
		t.Fatal(err)
	}
	pg, db := d.Targets[0], d.Targets[1]
	if pg.Kind != KindPostgreSQL || pg.Method != MethodOnline || pg.User != "postgres" || pg.DB.Socket != DefaultPGSocket || pg.DB.Port != 5432 ||
		pg.DB.Database != "postgres" || pg.DB.PGBackup != PGBackupAuto || pg.DB.EnterTimeout != 30*time.Second || pg.DB.DataDir != "/srv/pg" ||
		strings.Join(pg.ProcessNames, ",") != "postgres" {
		t.Errorf("postgresql defaults: %+v", pg)
	}
	if db.Kind != KindMariaDB || db.Method != MethodAuto || db.User != "" || db.DB.Socket != DefaultMariaDBSocket || db.DB.MaxHold != 90*time.Second ||
		db.DB.Credentials != "/etc/quiesce/db.cnf" {
		t.Errorf("mariadb: %+v", db)
	}
	for _, c := range []struct{ body, want string }{
		{"[target x]\nkind = oracle\n", `"oracle" is not one of postgresql, mariadb`},
		{"[target x]\nkind = mariadb\nsocket = run/my.sock\n", "is not an absolute path"},
		{"[target x]\nmanager = systemd\nunit = x\nprocess_names = x\nready_tcp = 127.0.0.1:1\nsocket = /run/x.sock\n", "add kind = postgresql or kind = mariadb"},
		{"[target x]\nkind = postgresql\nmethod = auto\n", "method = auto may stop the server: say how"},
		{"[target x]\nkind = mariadb\nport = 3306\n", "over its socket only"},
		{"[target x]\nkind = mariadb\npg_backup = never\n", "PostgreSQL's keys"},
		{"[target x]\nkind = postgresql\nport = 70000\n", "is not a port"},
		{"[target x]\nkind = postgresql\nmax_hold = 0s\n", "must be more than zero"},
	} {
		if _, err := ParseNative("q.conf", []byte(c.body)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.body, err, c.want)
		}
	}
}
