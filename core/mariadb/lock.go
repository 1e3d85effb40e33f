package mariadb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/holder"
)

// Conn is what a holder needs to reach the server: its socket and the
// account (the holder's own OS user through unix_socket authentication
// when there is no password).
type Conn struct {
	Socket   string `json:"socket"`
	User     string `json:"user"`
	Password string `json:"password,omitempty"`
}

// How a freeze locks the server, by server version (docs/mariadb.md says
// why).
const (
	ModeBackupStage = "backup-stage"        // MariaDB >= 10.4: BACKUP STAGE START, BLOCK_COMMIT
	ModeLockInst    = "lock-instance+ftwrl" // MySQL >= 8.0: LOCK INSTANCE FOR BACKUP, FLUSH TABLES WITH READ LOCK
	ModeFTWRL       = "ftwrl"               // older: FLUSH TABLES WITH READ LOCK
)

// Facts a MariaDB/MySQL freeze records.
const (
	FactBinlogFile  = "binlog_file"
	FactBinlogPos   = "binlog_pos"
	FactGTIDBinlog  = "gtid_binlog_pos"  // MariaDB: the last event group in the binary log
	FactGTIDCurrent = "gtid_current_pos" // MariaDB: the last transaction applied (replicas)
	FactGTIDExec    = "gtid_executed"    // MySQL
)

// Lock is a MariaDB or MySQL server's backup lock, held by one session.
type Lock struct {
	c    Conn
	log  *zap.Logger
	db   *sql.DB
	conn *sql.Conn
	mode string
}

var _ holder.Lock = (*Lock)(nil)

// NewLock is the holder's factory of the kind.
func NewLock(raw json.RawMessage, log *zap.Logger) (holder.Lock, error) {
	var c Conn
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	return &Lock{c: c, log: log}, nil
}

// connect opens the one session the lock lives in: database/sql never
// replaces it behind the holder's back (a lost one fails with
// driver.ErrBadConn).
func (l *Lock) connect(ctx context.Context) error {
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr, cfg.User, cfg.Passwd = "unix", l.c.Socket, l.c.User, l.c.Password
	cfg.Timeout = 5 * time.Second
	cfg.AllowNativePasswords = true
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	l.db = sql.OpenDB(conn)
	l.db.SetMaxOpenConns(1)
	l.conn, err = l.db.Conn(ctx)
	if err != nil {
		return classify(err, "connect to "+l.c.Socket+" as "+l.c.User)
	}
	return nil
}

// classify wraps a driver's error with the holder's class.
func classify(err error, what string) error {
	var me *mysql.MySQLError
	switch {
	case errors.As(err, &me) && (me.Number == 1045 || me.Number == 1698 || me.Number == 1044):
		return fmt.Errorf("%s: %w (%v)", what, holder.ErrAuth, me)
	case errors.As(err, &me) && me.Number == 1227:
		return fmt.Errorf("%s: %w: %v (grant RELOAD, BINLOG MONITOR: see docs/mariadb.md)", what, holder.ErrAuth, me)
	case errors.As(err, &me) && me.Number == 1205:
		return fmt.Errorf("%s: %w: the server's lock wait timed out (a long-running statement or DDL holds the tables: see SHOW PROCESSLIST)", what, holder.ErrTimeout)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w (a long-running statement or DDL holds the tables: see SHOW PROCESSLIST)", what, holder.ErrTimeout)
	case errors.Is(err, os.ErrNotExist), errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%s: %w", what, holder.ErrRefused)
	}
	var ne *net.OpError
	if errors.As(err, &ne) {
		return fmt.Errorf("%s: %w: %v", what, holder.ErrRefused, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// server reads the server's version and the session's id.
func (l *Lock) server(ctx context.Context) (version, session string, err error) {
	err = l.conn.QueryRowContext(ctx, "SELECT VERSION(), CONNECTION_ID()").Scan(&version, &session)
	return version, session, err
}

// ModeFor is how a freeze locks the server of version (as VERSION()
// shows it: "10.11.19-MariaDB-0+deb12u1", "8.0.36").
func ModeFor(version string) string {
	major, minor := versionOf(version)
	maria := strings.Contains(strings.ToLower(version), "mariadb")
	switch {
	case maria && (major > 10 || major == 10 && minor >= 4):
		return ModeBackupStage
	case !maria && major >= 8:
		return ModeLockInst
	}
	return ModeFTWRL
}

func versionOf(v string) (major, minor int) {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) >= 2 {
		major, _ = strconv.Atoi(parts[0])
		minor, _ = strconv.Atoi(strings.TrimLeftFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	}
	return major, minor
}

// statements are what takes and what ends the lock in mode.
func statements(mode string) (take, end []string) {
	switch mode {
	case ModeBackupStage:
		return []string{"BACKUP STAGE START", "BACKUP STAGE BLOCK_COMMIT"}, []string{"BACKUP STAGE END"}
	case ModeLockInst:
		return []string{"LOCK INSTANCE FOR BACKUP", "FLUSH TABLES WITH READ LOCK"}, []string{"UNLOCK TABLES", "UNLOCK INSTANCE"}
	}
	return []string{"FLUSH TABLES WITH READ LOCK"}, []string{"UNLOCK TABLES"}
}

// Acquire implements holder.Lock: the session's lock wait is what is
// left of ctx (the server's own default is a day), then the lock, then,
// under it, the binary log position the snapshot will have.
func (l *Lock) Acquire(ctx context.Context) (holder.Facts, error) {
	if err := l.connect(ctx); err != nil {
		return nil, err
	}
	version, session, err := l.server(ctx)
	if err != nil {
		return nil, classify(err, "read the server's version")
	}
	l.mode = ModeFor(version)
	f := holder.Facts{holder.FactServer: version, holder.FactSession: session, holder.FactMode: l.mode}
	wait := 1
	if dl, ok := ctx.Deadline(); ok {
		wait = max(1, int(math.Floor(time.Until(dl).Seconds()-0.3)))
	}
	if _, err := l.conn.ExecContext(ctx, fmt.Sprintf("SET SESSION lock_wait_timeout = %d", wait)); err != nil {
		return nil, classify(err, "set lock_wait_timeout")
	}
	take, _ := statements(l.mode)
	for _, s := range take {
		began := time.Now()
		if _, err := l.conn.ExecContext(ctx, s); err != nil {
			return nil, classify(err, fmt.Sprintf("%s (after %.3fs)", s, time.Since(began).Seconds()))
		}
	}
	l.position(ctx, f)
	return f, nil
}

// position records the binary log's file, position and GTIDs, read under
// the lock: nothing commits until the release, so they are the snapshot's.
func (l *Lock) position(ctx context.Context, f holder.Facts) {
	var warn []string
	rows, err := l.conn.QueryContext(ctx, "SHOW MASTER STATUS")
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1064 { // MySQL 8.4 renamed it
		rows, err = l.conn.QueryContext(ctx, "SHOW BINARY LOG STATUS")
	}
	if err == nil {
		file, pos, ok, serr := firstTwo(rows)
		switch {
		case serr != nil:
			warn = append(warn, "binary log position not read: "+serr.Error())
		case !ok:
			f[FactBinlogFile] = "off" // the server writes no binary log
		default:
			f[FactBinlogFile], f[FactBinlogPos] = file, pos
		}
	} else {
		warn = append(warn, "binary log position not read: "+err.Error()+" (grant BINLOG MONITOR, or REPLICATION CLIENT on MySQL)")
	}
	if l.mode == ModeBackupStage {
		var b, c string
		if err := l.conn.QueryRowContext(ctx, "SELECT @@global.gtid_binlog_pos, @@global.gtid_current_pos").Scan(&b, &c); err == nil {
			f[FactGTIDBinlog], f[FactGTIDCurrent] = b, c
		}
	} else {
		var e sql.NullString
		if err := l.conn.QueryRowContext(ctx, "SELECT @@global.gtid_executed").Scan(&e); err == nil && e.String != "" {
			f[FactGTIDExec] = e.String
		}
	}
	if len(warn) > 0 {
		f[holder.FactWarning] = strings.Join(warn, "; ")
	}
}

// firstTwo reads the first two columns of the first row as text.
func firstTwo(rows *sql.Rows) (a, b string, ok bool, err error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil || len(cols) < 2 {
		return "", "", false, err
	}
	if !rows.Next() {
		return "", "", false, rows.Err()
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return "", "", false, err
	}
	return string(vals[0]), string(vals[1]), true, nil
}

// Alive implements holder.Lock: the same session answers.
func (l *Lock) Alive(ctx context.Context) (string, error) {
	var id string
	if err := l.conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		return "", err
	}
	return id, nil
}

// Release implements holder.Lock.
func (l *Lock) Release(ctx context.Context) (holder.Facts, error) {
	if l.conn == nil {
		return nil, errors.New("no session")
	}
	_, end := statements(l.mode)
	for _, s := range end {
		if _, err := l.conn.ExecContext(ctx, s); err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
	}
	return holder.Facts{}, nil
}

// Probe implements holder.Lock: who the server is, how a freeze would
// lock it, and whether this account may.
func (l *Lock) Probe(ctx context.Context) (holder.Facts, error) {
	if err := l.connect(ctx); err != nil {
		return nil, err
	}
	version, session, err := l.server(ctx)
	if err != nil {
		return nil, classify(err, "read the server's version")
	}
	f := holder.Facts{holder.FactServer: version, holder.FactSession: session, holder.FactMode: ModeFor(version)}
	var user, grants string
	if err := l.conn.QueryRowContext(ctx, "SELECT CURRENT_USER()").Scan(&user); err == nil {
		f["account"] = user
	}
	if rows, err := l.conn.QueryContext(ctx, "SHOW GRANTS"); err == nil {
		for rows.Next() {
			var g string
			if rows.Scan(&g) == nil {
				grants += g + "\n"
			}
		}
		rows.Close()
	}
	up := strings.ToUpper(grants)
	if !strings.Contains(up, "ALL PRIVILEGES ON *.*") && !strings.Contains(up, "RELOAD") {
		f[holder.FactWarning] = "the account " + user + " lacks RELOAD: the freeze will be refused (see docs/mariadb.md)"
	}
	var logBin int
	if err := l.conn.QueryRowContext(ctx, "SELECT @@global.log_bin").Scan(&logBin); err == nil {
		f["log_bin"] = strconv.Itoa(logBin)
	}
	return f, nil
}

// Close implements holder.Lock: the session ends, and with it any lock.
func (l *Lock) Close() error {
	if l.conn != nil {
		_ = l.conn.Close()
		l.conn = nil
	}
	if l.db == nil {
		return nil
	}
	err := l.db.Close() // closes the session
	l.db = nil
	return err
}
