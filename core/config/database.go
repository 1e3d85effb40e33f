package config

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"time"
)

// Kinds of [target] that are database servers with an online freeze of
// their own (kind = ...); "" is an application quiesce can only stop.
const (
	KindPostgreSQL = "postgresql"
	KindMariaDB    = "mariadb" // MariaDB and MySQL
)

// pg_backup values: when a PostgreSQL freeze holds pg_backup_start.
const (
	PGBackupAuto   = "auto"   // when data, WAL or a tablespace are on different file systems
	PGBackupNever  = "never"  // CHECKPOINT only
	PGBackupAlways = "always" // on every freeze
)

// Database is how quiesce reaches a database server of a [target NAME]
// section with a kind: over its Unix socket, as the OS user of the
// section's user key (peer or unix_socket authentication), or with a
// password from a credentials file only root can read.
//
//	[target pg]
//	kind = postgresql
//	user = postgres                  # OS user the connection is made as
//	socket = /var/run/postgresql     # PostgreSQL: the socket directory
//	port = 5432
//	data_dir = /var/lib/postgresql/15/main
type Database struct {
	Socket         string        // PostgreSQL: socket directory; MariaDB: socket file
	Port           int           // PostgreSQL: names the socket (.s.PGSQL.PORT)
	DBUser         string        // the database role or account; "": the OS user's name
	Database       string        // PostgreSQL: the database connected to
	DataDir        string        // the server's data directory: the instance's identity
	Credentials    string        // .pgpass (PostgreSQL) or option file (MariaDB) with the password
	PGBackup       string        // PGBackupAuto, PGBackupNever or PGBackupAlways
	LabelDir       string        // where a PostgreSQL backup's label files are written; "": under the state directory
	EnterTimeout   time.Duration // wait for the lock at most this long (less when the caller's budget is shorter)
	MaxHold        time.Duration // a hold ends by itself after this long, thaw or not
	ReleaseTimeout time.Duration // a thaw waits this long for the lock's release
}

// Database defaults.
const (
	DefaultPGSocket      = "/var/run/postgresql"
	DefaultPGPort        = 5432
	DefaultPGUser        = "postgres"
	DefaultMariaDBSocket = "/run/mysqld/mysqld.sock"
)

// DefaultDatabase are the timeouts of a database freeze.
var DefaultDatabase = Database{EnterTimeout: 30 * time.Second, MaxHold: 5 * time.Minute, ReleaseTimeout: 60 * time.Second}

// dbKeys are the [target] keys of a database kind.
var dbKeys = map[string]targetSetter{
	"kind": func(g *Generic, v string) string {
		if runtime.GOOS == "windows" && (v == KindPostgreSQL || v == KindMariaDB) {
			return "database freezes run on Linux only: on Windows, stop the server as a [target] without kind (manager = service)"
		}
		return pick(&g.Kind, v, KindPostgreSQL, KindMariaDB)
	},
	"socket": func(g *Generic, v string) string {
		if !filepath.IsAbs(v) {
			return fmt.Sprintf("%q is not an absolute path", v)
		}
		g.DB.Socket = filepath.Clean(v)
		return ""
	},
	"port": func(g *Generic, v string) string {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("%q is not a port (1-65535)", v)
		}
		g.DB.Port = n
		return ""
	},
	"db_user":  func(g *Generic, v string) string { g.DB.DBUser = v; return "" },
	"database": func(g *Generic, v string) string { g.DB.Database = v; return "" },
	"data_dir": func(g *Generic, v string) string { return absPathTo(&g.DB.DataDir, v) },
	"credentials": func(g *Generic, v string) string {
		return absPathTo(&g.DB.Credentials, v)
	},
	"pg_backup": func(g *Generic, v string) string {
		return pick(&g.DB.PGBackup, v, PGBackupAuto, PGBackupNever, PGBackupAlways)
	},
	"label_dir":       func(g *Generic, v string) string { return absPathTo(&g.DB.LabelDir, v) },
	"enter_timeout":   func(g *Generic, v string) string { return positive(&g.DB.EnterTimeout, v) },
	"max_hold":        func(g *Generic, v string) string { return positive(&g.DB.MaxHold, v) },
	"release_timeout": func(g *Generic, v string) string { return positive(&g.DB.ReleaseTimeout, v) },
}

func absPathTo(field *string, v string) string {
	if !filepath.IsAbs(v) {
		return fmt.Sprintf("%q is not an absolute path", v)
	}
	*field = filepath.Clean(v)
	return ""
}

func positive(field *time.Duration, v string) string {
	d, err := ParseDuration(v)
	if err != nil {
		return err.Error()
	}
	if d <= 0 {
		return fmt.Sprintf("%q: must be more than zero", v)
	}
	*field = d
	return ""
}

// IsDatabase reports whether the target is a database server with an
// online freeze of its own.
func (g *Generic) IsDatabase() bool { return g.Kind != "" }

// validateDatabase fills in a database target's defaults and checks that
// its method can be carried out: without a manager a database can only
// be frozen online (method = online, the default then); auto and stop
// need the stop's keys.
func (g *Generic) validateDatabase(file string) error {
	bad := func(key, msg string) error {
		return &Error{File: file, Line: g.Line, Key: "target " + g.Name + "." + key, Msg: msg}
	}
	if !g.IsDatabase() {
		if g.DB != (Database{}) {
			return bad("kind", "socket, port, db_user, database, data_dir, credentials, pg_backup, label_dir, enter_timeout, max_hold and release_timeout are for a database server: add kind = postgresql or kind = mariadb")
		}
		return nil
	}
	d := &g.DB
	switch g.Kind {
	case KindPostgreSQL:
		d.Socket = or(d.Socket, DefaultPGSocket)
		if d.Port == 0 {
			d.Port = DefaultPGPort
		}
		d.Database = or(d.Database, "postgres")
		d.PGBackup = or(d.PGBackup, PGBackupAuto)
		if g.User == "" && d.Credentials == "" {
			g.User = DefaultPGUser // peer authentication as the cluster's owner
		}
		if d.Credentials != "" && d.DBUser == "" && g.User == "" {
			return bad("db_user", "name the role the credentials file's password is for")
		}
	case KindMariaDB:
		d.Socket = or(d.Socket, DefaultMariaDBSocket)
		if d.PGBackup != "" || d.LabelDir != "" || d.Database != "" {
			return bad("pg_backup", "pg_backup, label_dir and database are PostgreSQL's keys")
		}
		if d.Port != 0 {
			return bad("port", "a MariaDB server is reached over its socket only (socket = /run/mysqld/mysqld.sock)")
		}
	}
	if len(g.ProcessNames) == 0 && len(g.ProcessPaths) == 0 {
		g.ProcessNames = map[string][]string{KindPostgreSQL: {"postgres"}, KindMariaDB: {"mariadbd", "mysqld"}}[g.Kind] // what status counts
	}
	if d.EnterTimeout == 0 {
		d.EnterTimeout = DefaultDatabase.EnterTimeout
	}
	if d.MaxHold == 0 {
		d.MaxHold = DefaultDatabase.MaxHold
	}
	if d.ReleaseTimeout == 0 {
		d.ReleaseTimeout = DefaultDatabase.ReleaseTimeout
	}
	if g.Method == "" {
		g.Method = MethodOnline
		if g.Manager != "" {
			g.Method = MethodAuto
		}
	}
	if g.Manager == "" && g.Method != MethodOnline {
		return bad("method", fmt.Sprintf("method = %s may stop the server: say how (manager, start and stop or unit, process_path, ready_tcp or ready_log), or use method = online", g.Method))
	}
	return nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
