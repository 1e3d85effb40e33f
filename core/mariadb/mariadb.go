// Package mariadb freezes a MariaDB or MySQL server online: a holder
// process takes the server's backup lock in its own session (MariaDB
// 10.4 and later: BACKUP STAGE START and BLOCK_COMMIT; MySQL 8: LOCK
// INSTANCE FOR BACKUP and FLUSH TABLES WITH READ LOCK; older servers:
// FLUSH TABLES WITH READ LOCK), records the binary log position under it
// and keeps it until the thaw (core/holder). docs/mariadb.md says why,
// from the servers' documentation.
package mariadb

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
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
const Name = "mariadb-backup-lock"

// Kind is the instance kind the method serves.
const Kind = config.KindMariaDB

// Driver is a MariaDB or MySQL server as the freeze method sees it.
type Driver struct {
	g       config.Generic
	file    string // the configuration, for messages
	account *runas.Account
}

var _ holder.Driver = (*Driver)(nil)

// New returns the online freeze of the server g describes. A credentials
// file others could read is refused here, before any freeze.
func New(g config.Generic, file string, launcher holder.Launcher, p freeze.Policy, log *zap.Logger, c clock.Clock) (*holder.Method, error) {
	d := &Driver{g: g, file: file}
	if g.User != "" {
		a, err := runas.Lookup(g.User)
		if err != nil {
			return nil, &config.Error{File: file, Line: g.Line, Key: "target " + g.Name + ".user", Msg: fmt.Sprintf("user %q does not exist", g.User)}
		}
		d.account = &a
	}
	if g.DB.Credentials != "" {
		if _, err := d.credentials(); err != nil {
			return nil, err
		}
	}
	set := holder.Settings{Name: Name, Account: d.account, Launcher: launcher, EnterTimeout: g.DB.EnterTimeout, MaxHold: g.DB.MaxHold,
		ReleaseTimeout: g.DB.ReleaseTimeout, Policy: p}
	return holder.New(d, set, log.With(zap.String("target", g.Name)), c), nil
}

// Kind implements holder.Driver.
func (d *Driver) Kind() string { return Kind }

// Server implements holder.Driver.
func (d *Driver) Server() string { return "MariaDB" }

// Socket implements holder.Driver.
func (d *Driver) Socket() string { return d.g.DB.Socket }

// Conn implements holder.Driver: the account is db_user, else the
// credentials file's user, else the OS user the holder runs as (root's
// unix_socket account on Debian).
func (d *Driver) Conn(time.Duration) (json.RawMessage, error) {
	c := Conn{Socket: d.g.DB.Socket, User: d.g.DB.DBUser}
	if d.g.DB.Credentials != "" {
		cred, err := d.credentials()
		if err != nil {
			return nil, err
		}
		c.Password = cred.Password
		if c.User == "" {
			c.User = cred.User
		}
	}
	if c.User == "" {
		c.User = "root"
		if d.account != nil {
			c.User = d.account.Name
		}
	}
	return json.Marshal(c)
}

// credentials reads the client option file.
func (d *Driver) credentials() (Credentials, error) {
	b, err := config.ReadSecret(d.g.DB.Credentials)
	if err != nil {
		return Credentials{}, err
	}
	c, err := ParseOptionFile(b)
	if err != nil {
		return Credentials{}, &config.Error{File: d.g.DB.Credentials, Msg: err.Error()}
	}
	return c, nil
}

// Held implements holder.Driver.
func (d *Driver) Held(f holder.Facts) string {
	what := map[string]string{
		ModeBackupStage: "BACKUP STAGE BLOCK_COMMIT held: MyISAM and Aria tables closed, commits wait until the thaw, reads go on",
		ModeLockInst:    "LOCK INSTANCE FOR BACKUP and FLUSH TABLES WITH READ LOCK held: tables closed, writes wait until the thaw, reads go on",
		ModeFTWRL:       "FLUSH TABLES WITH READ LOCK held: tables closed, writes wait until the thaw, reads go on",
	}[f[holder.FactMode]]
	return fmt.Sprintf("%s %s: %s; %s", d.g.Name, f[holder.FactServer], what, Position(f))
}

// Position says where the binary log is in the snapshot.
func Position(f holder.Facts) string {
	switch {
	case f[FactBinlogFile] == "off":
		return "no binary log (log_bin is off)"
	case f[FactBinlogFile] == "":
		return "binary log position unknown"
	}
	s := "binary log " + f[FactBinlogFile] + ":" + f[FactBinlogPos]
	if g := f[FactGTIDBinlog]; g != "" {
		s += ", GTID " + g
	}
	if g := f[FactGTIDExec]; g != "" {
		s += ", GTID set " + g
	}
	return s
}

// Describe implements holder.Driver.
func (d *Driver) Describe(f holder.Facts) string {
	switch f[holder.FactMode] {
	case ModeBackupStage:
		return "in BACKUP STAGE BLOCK_COMMIT"
	case ModeLockInst:
		return "under LOCK INSTANCE FOR BACKUP and FLUSH TABLES WITH READ LOCK"
	}
	return "under FLUSH TABLES WITH READ LOCK"
}

// Released implements holder.Driver.
func (d *Driver) Released(_ *freeze.Run, acquired, _ holder.Facts) (string, []string, error) {
	return "the snapshot's " + Position(acquired), nil, nil
}

// Credentials are what a client option file gives.
type Credentials struct {
	User, Password, Socket string
}

// ParseOptionFile reads the [client] group (and [client-mariadb],
// [mysql]) of a MySQL/MariaDB client option file: user, password and
// socket. Include directives are refused: the file must say it all.
func ParseOptionFile(b []byte) (Credentials, error) {
	var c Credentials
	group := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case line[0] == '!':
			return c, fmt.Errorf("line %d: %s: include directives are not followed; put user and password in this file", n, strings.Fields(line)[0])
		case line[0] == '[':
			group = strings.ToLower(strings.TrimSpace(strings.Trim(line, "[]")))
			continue
		}
		if group != "client" && group != "client-mariadb" && group != "mysql" {
			continue
		}
		key, val, _ := strings.Cut(line, "=")
		key = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(key)), "-", "_")
		val = unquote(strings.TrimSpace(val))
		switch key {
		case "user":
			c.User = val
		case "password":
			c.Password = val
		case "socket":
			c.Socket = val
		}
	}
	return c, sc.Err()
}

// unquote removes one pair of quotes around a value, and a trailing
// comment from an unquoted one.
func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	return v
}
