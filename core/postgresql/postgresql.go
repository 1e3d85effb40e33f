// Package postgresql freezes a PostgreSQL server (15 and later) online,
// as its documentation says a file-system snapshot is taken (docs/
// postgresql.md cites it): when data and WAL are on one file system a
// snapshot is crash-consistent and a CHECKPOINT before it shortens the
// recovery; when they are not (pg_wal or a tablespace elsewhere), the
// snapshot is a base backup: pg_backup_start is held in its session by a
// holder (core/holder) until the thaw, and pg_backup_stop's label is kept
// outside the data directory for the restore.
package postgresql

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/holder"
	"github.com/quiesce/quiesce/core/runas"
)

// Name is the method's name in records, logs and metrics.
const Name = "postgresql-online"

// Kind is the instance kind the method serves.
const Kind = config.KindPostgreSQL

// Driver is a PostgreSQL server as the freeze method sees it.
type Driver struct {
	g       config.Generic
	account *runas.Account
	log     *zap.Logger
	clock   clock.Clock
}

var _ holder.Driver = (*Driver)(nil)

// New returns the online freeze of the server g describes. Its holders
// run as the OS user of g (peer authentication: the cluster's owner,
// postgres by default); a credentials file others could read is refused
// here, before any freeze.
func New(g config.Generic, file string, launcher holder.Launcher, p freeze.Policy, log *zap.Logger, c clock.Clock) (*holder.Method, error) {
	d := &Driver{g: g, log: log.With(zap.String("target", g.Name)), clock: c}
	if g.User != "" {
		a, err := runas.Lookup(g.User)
		if err != nil {
			return nil, &config.Error{File: file, Line: g.Line, Key: "target " + g.Name + ".user", Msg: fmt.Sprintf("user %q does not exist", g.User)}
		}
		d.account = &a
	}
	if g.DB.Credentials != "" {
		if _, err := d.password(d.dbUser()); err != nil {
			return nil, err
		}
	}
	set := holder.Settings{Name: Name, Account: d.account, Launcher: launcher, EnterTimeout: g.DB.EnterTimeout, MaxHold: g.DB.MaxHold,
		ReleaseTimeout: g.DB.ReleaseTimeout, Policy: p}
	return holder.New(d, set, d.log, c), nil
}

// Kind implements holder.Driver.
func (d *Driver) Kind() string { return Kind }

// Server implements holder.Driver.
func (d *Driver) Server() string { return "PostgreSQL" }

// Socket implements holder.Driver.
func (d *Driver) Socket() string {
	return filepath.Join(d.g.DB.Socket, fmt.Sprintf(".s.PGSQL.%d", d.g.DB.Port))
}

// dbUser is the role: db_user, else the OS user's name.
func (d *Driver) dbUser() string {
	switch {
	case d.g.DB.DBUser != "":
		return d.g.DB.DBUser
	case d.account != nil:
		return d.account.Name
	}
	return "root"
}

// Conn implements holder.Driver.
func (d *Driver) Conn(time.Duration) (json.RawMessage, error) {
	c := Conn{SocketDir: d.g.DB.Socket, Port: d.g.DB.Port, User: d.dbUser(), Database: d.g.DB.Database, PGBackup: d.g.DB.PGBackup,
		Label: "quiesce " + d.g.Name + " " + d.clock.Now().UTC().Format("20060102T150405Z")}
	if d.g.DB.Credentials != "" {
		pw, err := d.password(c.User)
		if err != nil {
			return nil, err
		}
		c.Password = pw
	}
	return json.Marshal(c)
}

// password reads role's password from the .pgpass-format credentials
// file.
func (d *Driver) password(role string) (string, error) {
	path := d.g.DB.Credentials
	b, err := config.ReadSecret(path)
	if err != nil {
		return "", err
	}
	pw, ok := FindPassword(b, []string{"localhost", d.g.DB.Socket}, strconv.Itoa(d.g.DB.Port), d.g.DB.Database, role)
	if !ok {
		return "", &config.Error{File: path, Msg: fmt.Sprintf("no line for localhost:%d:%s:%s (hostname:port:database:username:password)", d.g.DB.Port, d.g.DB.Database, role)}
	}
	return pw, nil
}

// FindPassword finds the password of the first line of a .pgpass file
// (hostname:port:database:username:password, "*" matching anything, "\"
// escaping ":" and "\") that matches one of hosts, port, database and
// user.
func FindPassword(b []byte, hosts []string, port, database, user string) (string, bool) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f := splitPgpass(line)
		if len(f) != 5 {
			continue
		}
		match := func(pat, v string) bool { return pat == "*" || pat == v }
		hostOK := false
		for _, h := range hosts {
			hostOK = hostOK || match(f[0], h)
		}
		if hostOK && match(f[1], port) && match(f[2], database) && match(f[3], user) {
			return f[4], true
		}
	}
	return "", false
}

func splitPgpass(line string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
		case c == ':' && len(out) < 4:
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(out, cur.String())
}

// Held implements holder.Driver.
func (d *Driver) Held(f holder.Facts) string {
	if f[holder.FactMode] == ModeCheckpoint {
		return fmt.Sprintf("%s %s: CHECKPOINT in %s (redo %s): the snapshot is crash-consistent, its recovery replays only what follows; nothing is held, writes go on",
			d.g.Name, f[holder.FactServer], f[FactCheckpoint], f[FactRedoLSN])
	}
	return fmt.Sprintf("%s %s: pg_backup_start held (start %s) because %s; the snapshot is a base backup: its label comes at the thaw; writes go on",
		d.g.Name, f[holder.FactServer], f[FactStartLSN], f[FactWhy])
}

// Describe implements holder.Driver.
func (d *Driver) Describe(f holder.Facts) string {
	if f[holder.FactMode] == ModeCheckpoint {
		return "checkpointed (nothing held)"
	}
	return "in pg_backup_start (start " + f[FactStartLSN] + ")"
}

// Released implements holder.Driver: a backup's label files go into the
// label directory, never into the live data directory (§9.27.3: "doing
// so will cause PostgreSQL to fail to restart in the event of a crash").
func (d *Driver) Released(r *freeze.Run, acquired, released holder.Facts) (string, []string, error) {
	if acquired[holder.FactMode] == ModeCheckpoint {
		return "CHECKPOINT before the snapshot (redo " + acquired[FactRedoLSN] + "); nothing was held", nil, nil
	}
	dir := d.g.DB.LabelDir
	if dir == "" {
		dir = filepath.Join(r.Store().Dir(), "postgresql-labels")
	}
	dir = filepath.Join(dir, r.Instance().Name+"-"+d.clock.Now().UTC().Format("20060102T150405Z"))
	if err := writeLabel(dir, released); err != nil {
		return "", nil, fmt.Errorf("pg_backup_stop's label could not be kept (%w); it is in quiesce's log: a restore of this snapshot needs it", err)
	}
	d.log.Info("backup label kept for the restore", zap.String("dir", dir), zap.String("stop_lsn", released[FactStopLSN]),
		zap.String("stop_wal", released[FactStopWAL]), zap.String("labelfile", released[FactLabelFile]), zap.String("spcmapfile", released[FactSpcMapFile]))
	msg := fmt.Sprintf("backup ended at %s; its backup_label is in %s: a restore of this snapshot puts it into the data directory and replays the WAL archive through %s (docs/postgresql.md)",
		released[FactStopLSN], dir, released[FactStopWAL])
	var warns []string
	if a := released[FactArchived]; len(a) < 24 || a[:24] < released[FactStopWAL] {
		warns = append(warns, fmt.Sprintf("WAL segment %s is not archived yet (last archived: %q): the snapshot is restorable once it is; check archive_command", released[FactStopWAL], a))
	}
	return msg, warns, nil
}

// writeLabel writes backup_label and, when not empty, tablespace_map
// into dir, byte for byte (§26.3.3).
func writeLabel(dir string, f holder.Facts) error {
	if f[FactLabelFile] == "" {
		return fmt.Errorf("pg_backup_stop returned no label")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "backup_label"), []byte(f[FactLabelFile]), 0o600); err != nil {
		return err
	}
	if m := f[FactSpcMapFile]; m != "" {
		return os.WriteFile(filepath.Join(dir, "tablespace_map"), []byte(m), 0o600)
	}
	return nil
}
