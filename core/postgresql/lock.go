package postgresql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/holder"
)

// Conn is what a holder needs to reach the server and decide how to
// freeze it.
type Conn struct {
	SocketDir string `json:"socket_dir"`
	Port      int    `json:"port"`
	User      string `json:"user"`
	Password  string `json:"password,omitempty"`
	Database  string `json:"database"`
	PGBackup  string `json:"pg_backup"` // config.PGBackupAuto, Never or Always
	Label     string `json:"label"`     // pg_backup_start's label
}

// How a freeze makes the server's snapshot consistent (docs/postgresql.md
// cites the documentation).
const (
	ModeCheckpoint = "checkpoint" // data and WAL on one file system: CHECKPOINT, nothing held
	ModeBackup     = "backup"     // pg_backup_start held until the thaw, pg_backup_stop then
)

// Facts a PostgreSQL freeze records.
const (
	FactRedoLSN    = "redo_lsn"   // the checkpoint's redo point: crash recovery of the snapshot starts there
	FactStartLSN   = "start_lsn"  // pg_backup_start's
	FactStopLSN    = "stop_lsn"   // pg_backup_stop's
	FactLabelFile  = "labelfile"  // backup_label's content, for the restore
	FactSpcMapFile = "spcmapfile" // tablespace_map's content ("" for none)
	FactStopWAL    = "stop_wal"   // the last WAL segment the backup needs
	FactArchived   = "archived"   // the archiver's last archived segment at the release
	FactWhy        = "why"        // why the mode was chosen
	FactDataDir    = "data_dir"   // the server's data_directory
	FactCheckpoint = "checkpoint" // how long CHECKPOINT took
	FactArchiveMod = "archive_mode"
)

// Lock is a PostgreSQL server's freeze, in one session: a CHECKPOINT
// (nothing held after it), or pg_backup_start held until pg_backup_stop.
type Lock struct {
	c    Conn
	log  *zap.Logger
	conn *pgx.Conn
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

// connect opens the session: over the Unix socket, as configured, with
// nothing taken from the environment or the holder's home (no PG*
// variables, no ~/.pgpass: a password comes only from the credentials
// file quiesce checked).
func (l *Lock) connect(ctx context.Context) error {
	cs := fmt.Sprintf("host=%s port=%d user=%s dbname=%s passfile=/dev/null sslmode=disable connect_timeout=10 application_name=quiesce",
		quote(l.c.SocketDir), l.c.Port, quote(l.c.User), quote(l.c.Database))
	cfg, err := pgx.ParseConfig(cs)
	if err != nil {
		return err
	}
	cfg.Password = l.c.Password
	l.conn, err = pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return classify(err, fmt.Sprintf("connect to %s/.s.PGSQL.%d as %s", l.c.SocketDir, l.c.Port, l.c.User))
	}
	return nil
}

// quote is a libpq connection string value.
func quote(v string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), "'", `\'`) + "'"
}

// classify wraps a driver's error with the holder's class.
func classify(err error, what string) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "28P01" || pe.Code == "28000" || pe.Code == "3D000" || pe.Code == "42501":
			return fmt.Errorf("%s: %w: %s (SQLSTATE %s)", what, holder.ErrAuth, pe.Message, pe.Code)
		case pe.Code == "57014": // query_canceled: statement_timeout
			return fmt.Errorf("%s: %w", what, holder.ErrTimeout)
		}
		return fmt.Errorf("%s: %s (SQLSTATE %s)", what, pe.Message, pe.Code)
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", what, holder.ErrTimeout)
	case errors.Is(err, os.ErrNotExist), errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%s: %w", what, holder.ErrRefused)
	}
	var ne *net.OpError
	if errors.As(err, &ne) {
		return fmt.Errorf("%s: %w: %v", what, holder.ErrRefused, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// server is what the freeze reads of the server first.
type server struct {
	version, session, dataDir, archiveMode, walLevel string
	recovery                                         bool
}

func (l *Lock) server(ctx context.Context) (server, error) {
	var s server
	var pid int32
	err := l.conn.QueryRow(ctx, `SELECT current_setting('server_version'), pg_backend_pid(), current_setting('data_directory'),
		current_setting('archive_mode'), current_setting('wal_level'), pg_is_in_recovery()`).
		Scan(&s.version, &pid, &s.dataDir, &s.archiveMode, &s.walLevel, &s.recovery)
	s.session = fmt.Sprint(pid)
	return s, err
}

// decide picks the mode: pg_backup_start when the data directory's
// parts are on more than one file system (a snapshot of them may not be
// simultaneous), else CHECKPOINT. why says what it found.
func (l *Lock) decide(s server) (mode, why string) {
	switch l.c.PGBackup {
	case config.PGBackupNever:
		return ModeCheckpoint, "pg_backup = never"
	case config.PGBackupAlways:
		return ModeBackup, "pg_backup = always"
	}
	split, err := Split(s.dataDir)
	switch {
	case err != nil:
		return ModeBackup, "cannot tell the data directory's file systems apart (" + err.Error() + "): held to be safe"
	case split != "":
		return ModeBackup, split
	}
	return ModeCheckpoint, "data directory and WAL on one file system"
}

// timeout bounds the session's statements by ctx's deadline, in the
// server too (a cancelled query's session is dropped by the driver).
func (l *Lock) timeout(ctx context.Context) error {
	dl, ok := ctx.Deadline()
	if !ok {
		return nil
	}
	ms := max(time.Until(dl).Milliseconds()-200, 100)
	_, err := l.conn.Exec(ctx, fmt.Sprintf("SET statement_timeout = %d", ms))
	return err
}

// Acquire implements holder.Lock.
func (l *Lock) Acquire(ctx context.Context) (holder.Facts, error) {
	if err := l.connect(ctx); err != nil {
		return nil, err
	}
	s, err := l.server(ctx)
	if err != nil {
		return nil, classify(err, "read the server's settings")
	}
	mode, why := l.decide(s)
	l.mode = mode
	f := holder.Facts{holder.FactServer: "PostgreSQL " + s.version, holder.FactSession: s.session, holder.FactMode: mode, FactWhy: why,
		FactDataDir: s.dataDir, FactArchiveMod: s.archiveMode}
	if err := l.timeout(ctx); err != nil {
		return nil, classify(err, "set statement_timeout")
	}
	if mode == ModeCheckpoint {
		return l.checkpoint(ctx, f, s)
	}
	return l.backupStart(ctx, f, s)
}

// checkpoint runs CHECKPOINT: the snapshot's crash recovery then replays
// only the WAL written after it (§26.2).
func (l *Lock) checkpoint(ctx context.Context, f holder.Facts, s server) (holder.Facts, error) {
	if s.recovery {
		f[holder.FactWarning] = "a standby: CHECKPOINT is a restartpoint there"
	}
	began := time.Now()
	if _, err := l.conn.Exec(ctx, "CHECKPOINT"); err != nil {
		return nil, classify(err, "CHECKPOINT")
	}
	f[FactCheckpoint] = time.Since(began).Round(time.Millisecond).String()
	var redo string
	if err := l.conn.QueryRow(ctx, "SELECT redo_lsn::text FROM pg_control_checkpoint()").Scan(&redo); err == nil {
		f[FactRedoLSN] = redo
	}
	f[holder.FactHold] = holder.HoldNone
	return f, nil
}

// backupStart holds pg_backup_start (§26.3.3): it needs WAL archiving,
// since a restore replays the archive from the backup's start.
func (l *Lock) backupStart(ctx context.Context, f holder.Facts, s server) (holder.Facts, error) {
	switch {
	case s.archiveMode == "off":
		return nil, fmt.Errorf("%w: %s; a snapshot of it is restorable only as a base backup with WAL archiving (PostgreSQL docs §26.2, §26.3.3), and archive_mode is off: turn it on, or snapshot data and WAL together and set pg_backup = never",
			holder.ErrUnsupported, f[FactWhy])
	case s.walLevel == "minimal":
		return nil, fmt.Errorf("%w: wal_level is minimal: an online backup needs replica or logical", holder.ErrUnsupported)
	}
	var lsn string
	if err := l.conn.QueryRow(ctx, "SELECT pg_backup_start($1, true)::text", l.c.Label).Scan(&lsn); err != nil {
		return nil, classify(err, "pg_backup_start")
	}
	f[FactStartLSN] = lsn
	return f, nil
}

// Alive implements holder.Lock.
func (l *Lock) Alive(ctx context.Context) (string, error) {
	var pid int32
	if err := l.conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		return "", err
	}
	return fmt.Sprint(pid), nil
}

// archiveWait bounds how long a release waits for the backup's last WAL
// segment to be archived.
const archiveWait = 20 * time.Second

// Release implements holder.Lock: pg_backup_stop without waiting for the
// archive (the snapshot is taken: only the label is still to come), then
// a bounded wait for the archiver to have the backup's last segment.
func (l *Lock) Release(ctx context.Context) (holder.Facts, error) {
	if l.mode != ModeBackup || l.conn == nil {
		return holder.Facts{}, nil
	}
	if _, err := l.conn.Exec(ctx, "SET statement_timeout = 0"); err != nil {
		return nil, err
	}
	var lsn, label, spc, wal string
	err := l.conn.QueryRow(ctx, "SELECT lsn::text, labelfile, spcmapfile, pg_walfile_name(lsn) FROM pg_backup_stop(false)").Scan(&lsn, &label, &spc, &wal)
	if err != nil {
		return nil, fmt.Errorf("pg_backup_stop: %w", err)
	}
	f := holder.Facts{FactStopLSN: lsn, FactLabelFile: label, FactSpcMapFile: spc, FactStopWAL: wal}
	wctx, cancel := context.WithTimeout(ctx, archiveWait)
	defer cancel()
	for {
		var last *string
		if err := l.conn.QueryRow(wctx, "SELECT last_archived_wal FROM pg_stat_archiver").Scan(&last); err == nil && last != nil {
			f[FactArchived] = *last
			if len(*last) >= 24 && (*last)[:24] >= wal {
				return f, nil
			}
		}
		select {
		case <-wctx.Done():
			return f, nil // reported as not archived yet
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Probe implements holder.Lock: the server, the mode a freeze would use,
// and whether this role may.
func (l *Lock) Probe(ctx context.Context) (holder.Facts, error) {
	if err := l.connect(ctx); err != nil {
		return nil, err
	}
	s, err := l.server(ctx)
	if err != nil {
		return nil, classify(err, "read the server's settings")
	}
	mode, why := l.decide(s)
	f := holder.Facts{holder.FactServer: "PostgreSQL " + s.version, holder.FactSession: s.session, holder.FactMode: mode, FactWhy: why,
		FactDataDir: s.dataDir, FactArchiveMod: s.archiveMode}
	var super, ckpt, start bool
	err = l.conn.QueryRow(ctx, `SELECT rolsuper, pg_has_role(current_user, 'pg_checkpoint', 'MEMBER'),
		has_function_privilege('pg_backup_start(text, boolean)', 'EXECUTE') FROM pg_roles WHERE rolname = current_user`).Scan(&super, &ckpt, &start)
	switch {
	case err != nil:
		f[holder.FactWarning] = "privileges not read: " + err.Error()
	case mode == ModeCheckpoint && !super && !ckpt:
		f[holder.FactWarning] = "the role " + l.c.User + " may not run CHECKPOINT: GRANT pg_checkpoint TO " + l.c.User
	case mode == ModeBackup && !super && !start:
		f[holder.FactWarning] = "the role " + l.c.User + " may not run pg_backup_start/pg_backup_stop: see docs/postgresql.md"
	case mode == ModeBackup && s.archiveMode == "off":
		f[holder.FactWarning] = why + ", and archive_mode is off: a freeze will be refused (docs/postgresql.md)"
	}
	return f, nil
}

// Close implements holder.Lock: the session ends; a backup not stopped
// is aborted by the server.
func (l *Lock) Close() error {
	if l.conn == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := l.conn.Close(ctx)
	l.conn = nil
	return err
}
