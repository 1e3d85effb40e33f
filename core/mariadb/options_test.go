package mariadb

import (
	"strings"
	"testing"
)

func TestParseOptionFile(t *testing.T) {
	c, err := ParseOptionFile([]byte("# quiesce's account\n[mysqld]\nuser = mysql\n\n[client]\nuser = quiesce\npassword = \"s3 cr#et\"\nsocket=/run/mysqld/mysqld.sock # the socket\n"))
	if err != nil || c != (Credentials{User: "quiesce", Password: "s3 cr#et", Socket: "/run/mysqld/mysqld.sock"}) {
		t.Fatalf("%+v %v", c, err)
	}
	if _, err := ParseOptionFile([]byte("[client]\n!includedir /etc/mysql/conf.d/\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("include: %v", err)
	}
}

func TestModeFor(t *testing.T) {
	for v, want := range map[string]string{
		"10.11.19-MariaDB-0+deb12u1": ModeBackupStage, "10.4.1-MariaDB": ModeBackupStage, "11.4.2-MariaDB": ModeBackupStage,
		"10.3.39-MariaDB": ModeFTWRL, "8.0.36": ModeLockInst, "8.4.0": ModeLockInst, "5.7.44-log": ModeFTWRL,
	} {
		if got := ModeFor(v); got != want {
			t.Errorf("%s: %s, want %s", v, got, want)
		}
	}
}
