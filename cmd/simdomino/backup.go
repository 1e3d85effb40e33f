// The backup task: Domino Backup in snapshot mode ("load backup -s"). This
// file holds no platform code (setGroup is in backup_unix.go and
// backup_windows.go).

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/nsf"
	"github.com/quiesce/quiesce/cmd/simdomino/snapshot"
	"github.com/quiesce/quiesce/cmd/simdomino/timeline"
)

// backupTask is the name of Domino Backup's server task.
const backupTask = "backup"

// backupDB is the database holding Domino Backup's configuration.
const backupDB = "dominobackup.nsf"

// backupMode is the BackupMode Domino passes for a snapshot backup (one of
// FULL, SNAP, TRANSLOG, INCR, DELTA, SELECT in HCL's documentation).
const backupMode = "SNAP"

// defaultSnapshotLimit is how long Domino Backup lets the snapshot command
// run before it fails the backup (notes.ini SimBackupSnapshotTimeout).
const defaultSnapshotLimit = 120 * time.Second

// Timeline events of the backup task.
const (
	evBackupStarted = "backup-started"     // the task runs
	evBackupModeAll = "backup-mode-all"    // every database is in backup mode
	evBackupEnding  = "backup-mode-ending" // the snapshot command returned; backup mode ends
	evBackupEnded   = "backup-mode-ended"  // every database is out of backup mode, deltas written
	evBackupDone    = "backup-done"
	evBackupFailed  = "backup-failed"
)

// backupConfig is the snapshot configuration document of dominobackup.nsf,
// with the item names of HCL's published configuration.
type backupConfig map[string]string

func (c backupConfig) get(item string) string { return c[strings.ToLower(item)] }

// readBackupConfig reads the configuration items stored in dominobackup.nsf
// as "Item=Value" records.
func readBackupConfig(data string) (backupConfig, error) {
	b, err := os.ReadFile(filepath.Join(data, backupDB))
	if err != nil {
		return nil, fmt.Errorf("no backup configuration: %s not found", backupDB)
	}
	cfg := backupConfig{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Scan() // the database header
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			cfg[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	if cfg.get("BackupSnapshotMode") != "1" {
		return nil, fmt.Errorf("snapshot mode is not enabled in the backup configuration (%s: BackupSnapshotMode)", backupDB)
	}
	for _, item := range []string{"BackupSnapshotStartCommand", "BackupSnapshotCommand", "BackupTargetDirDb"} {
		if cfg.get(item) == "" {
			return nil, fmt.Errorf("the backup configuration has no %s (%s)", item, backupDB)
		}
	}
	return cfg, nil
}

// writeBackupConfig writes a snapshot configuration for quiesce, as an
// administrator would set it in dominobackup.nsf.
func writeBackupConfig(data, quiesce, deltaDir string) error {
	cmd := func(op string) string { return quiesce + " domino-backup " + op }
	items := []string{
		"Status=1", "ConfigType=D", "Platform=LINUX",
		"BackupSnapshotMode=1",
		"BackupSnapshotStartCommand=" + cmd("snapshot-start"),
		"BackupSnapshotCommand=" + cmd("snapshot"),
		"BackupPostCommand=" + cmd("post"),
		"SnapshotStartOkString=Return: PROCESSED", "SnapshotStartErrString=Return: ERROR",
		"SnapshotOkString=Return: PROCESSED", "SnapshotErrString=Return: ERROR",
		"BackupOkString=Return: PROCESSED",
		"BackupTargetDirDb=" + deltaDir,
	}
	return nsf.CreateWith(filepath.Join(data, backupDB), []byte(strings.Join(items, "\n")+"\n"))
}

// consoleBackup handles the console command "load backup ...": it loads
// the backup task, or says why it cannot. ok is false for other commands.
func (s *server) consoleBackup(cmd string) (reply string, ok bool) {
	f := strings.Fields(cmd)
	if len(f) < 2 || f[0] != "load" || f[1] != backupTask {
		return "", false
	}
	if !hasFlag(f[2:], "-s") {
		s.con.printf("Backup: only snapshot backups (load backup -s) are simulated")
		return "Backup: only snapshot backups (load backup -s) are simulated\n", true
	}
	if n, err := readIni(s.data); err == nil && n.flag("SimBackupFailLoad") {
		s.con.printf("Unable to load task backup: insufficient memory (simulated failure)")
		return "Unable to load task backup\n", true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.backup != nil {
		select {
		case <-s.backup.done:
		default:
			s.con.printf("Backup: a backup is already running")
			return "Backup: a backup is already running\n", true
		}
	}
	t, err := s.spawn(backupTask)
	if err != nil {
		s.con.printf("Unable to load task backup: %v", err)
		return "Unable to load task backup\n", true
	}
	s.backup = t
	return fmt.Sprintf("Backup task loaded (PID %d)\n", t.cmd.Process.Pid), true
}

// backupRun is one run of the backup task.
type backupRun struct {
	data, id, node, target string
	cfg                    backupConfig
	ini                    ini
	con                    *console
	abort                  <-chan struct{} // the server went away
	perDB                  time.Duration
	dbs                    []string // relative paths, in backup order
	bases                  map[string]nsf.Base
}

// runBackup is the backup task process: every database into backup mode,
// the snapshot start and snapshot commands, backup mode ended database by
// database with one .DELTA each, the post command.
func runBackup(data string, n ini, stdout io.Writer) int {
	b := &backupRun{data: data, ini: n, con: newConsole(data, stdout), bases: map[string]nsf.Base{}, perDB: 20 * time.Millisecond}
	if v := n.get("SimBackupMsPerDB"); v != "" {
		b.perDB = parseMs(v)
	}
	_ = timeline.Append(data, evBackupStarted, "")
	b.con.printf("Backup: Started (snapshot mode)")
	if err := b.run(); err != nil {
		b.con.printf("Backup: Error: %v", err)
		b.con.printf("Backup: Snapshot backup failed")
		_ = timeline.Append(data, evBackupFailed, "")
		return 1
	}
	return 0
}

func (b *backupRun) run() error {
	cfg, err := readBackupConfig(b.data)
	if err != nil {
		return err
	}
	b.cfg = cfg
	abort := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(abort) }() // EOF: the server is gone
	b.abort = abort
	b.node = nodeName(b.ini.get("ServerName"), cfg.get("NodeName"))
	b.target = cfg.get("BackupTargetDirDb")
	b.id = b.newID()
	if b.dbs, err = databases(b.data); err != nil {
		return err
	}
	if err := b.enterAll(); err != nil {
		b.leaveAll(false)
		return err
	}
	_ = timeline.Append(b.data, evBackupModeAll, b.id)
	b.con.printf("Backup: %d databases in backup mode (backup %s)", len(b.dbs), b.id)
	if err := b.command("snapshot start", "BackupSnapshotStartCommand", "SnapshotStart", 0, ""); err != nil {
		b.leaveAll(false)
		return err
	}
	limit := b.ini.seconds("SimBackupSnapshotTimeout", defaultSnapshotLimit)
	if err := b.command("snapshot", "BackupSnapshotCommand", "Snapshot", limit, ""); err != nil {
		b.leaveAll(false)
		return err
	}
	_ = timeline.Append(b.data, evBackupEnding, b.id)
	if err := b.leaveAll(true); err != nil {
		return err
	}
	_ = timeline.Append(b.data, evBackupEnded, b.id)
	dir := b.deltaDir()
	b.con.printf("Backup: backup mode ended for %d databases; delta files in %s", len(b.dbs), dir)
	if b.cfg.get("BackupPostCommand") != "" {
		if err := b.command("post", "BackupPostCommand", "Backup", 0, ""); err != nil {
			return err
		}
	}
	b.con.printf("Backup: Snapshot backup %s completed", b.id)
	_ = timeline.Append(b.data, evBackupDone, b.id)
	return nil
}

// newID is the BackupStartDT (UTC, to the second). Two backups in the same
// second would share their delta directory: the second one waits.
func (b *backupRun) newID() string {
	for {
		id := time.Now().UTC().Format("20060102150405")
		if _, err := os.Stat(filepath.Join(b.target, b.node, backupMode, id)); err != nil {
			return id
		}
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	}
}

func (b *backupRun) deltaDir() string { return filepath.Join(b.target, b.node, backupMode, b.id) }

// nodeName is the backup node: the configured one, else the common name of
// the server with spaces as underscores.
func nodeName(server, configured string) string {
	if configured != "" {
		return configured
	}
	cn, _, _ := strings.Cut(server, "/")
	cn = strings.TrimPrefix(cn, "CN=")
	return strings.ReplaceAll(cn, " ", "_")
}

// databases lists the data directory's databases.
func databases(data string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(data, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !nsf.IsDatabase(e.Name()) {
			return err
		}
		rel, _ := filepath.Rel(data, path)
		out = append(out, rel)
		return nil
	})
	return out, err
}

// enterAll puts every database into backup mode, one after the other.
func (b *backupRun) enterAll() error {
	for _, rel := range b.dbs {
		if b.ini.names("SimBackupFailDB", rel) {
			return fmt.Errorf("%s cannot be put into backup mode (simulated failure)", rel)
		}
		time.Sleep(b.perDB)
		base, err := nsf.BeginBackup(filepath.Join(b.data, rel))
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		b.bases[rel] = base
	}
	return nil
}

// leaveAll ends backup mode for every database that is in it; with deltas
// set, each one's changes are written to its .DELTA file.
func (b *backupRun) leaveAll(deltas bool) error {
	for _, rel := range b.dbs {
		base, ok := b.bases[rel]
		if !ok {
			continue
		}
		delete(b.bases, rel)
		if !deltas {
			continue
		}
		time.Sleep(b.perDB)
		d, err := nsf.EndBackup(base, b.id, rel)
		if err != nil {
			return err
		}
		if err := d.Write(filepath.Join(b.deltaDir(), rel+nsf.DeltaExt)); err != nil {
			return err
		}
	}
	return nil
}

// command runs a configured command with Domino Backup's positional
// arguments and judges it by the configured result strings: an error
// string found fails it; an OK string configured must be found; without
// an OK string the exit code decides. limit > 0 bounds its run time.
func (b *backupRun) command(what, item, results string, limit time.Duration, restore string) error {
	line := b.cfg.get(item)
	if line == "" {
		return fmt.Errorf("no %s command configured (%s)", what, item)
	}
	if dir := b.cfg.get("ScriptDir"); dir != "" && !filepath.IsAbs(line) {
		line = filepath.Join(dir, line)
	}
	args := []string{"", "", "", b.node, b.ini.get("ServerName"), backupMode, b.id, b.target}
	if item == "BackupPostCommand" {
		args = append(args, restore)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if limit > 0 {
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	go func() {
		select {
		case <-b.abort:
			cancel()
		case <-ctx.Done():
		}
	}()
	cmd := exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", line + ` "$@"`, "sh"}, args...)...)
	cmd.Dir = b.data
	setGroup(cmd)
	out, err := cmd.CombinedOutput()
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			b.con.printf("Backup: [%s] %s", what, l)
		}
	}
	okStr, errStr := b.cfg.get(results+"OkString"), b.cfg.get(results+"ErrString")
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return fmt.Errorf("%s command did not return within %s", what, limit)
	case ctx.Err() != nil:
		return fmt.Errorf("%s command interrupted: the server is going down", what)
	case errStr != "" && strings.Contains(string(out), errStr):
		return fmt.Errorf("%s command reported an error (%q)", what, errStr)
	case okStr != "" && !strings.Contains(string(out), okStr):
		return fmt.Errorf("%s command did not report %q", what, okStr)
	case okStr == "" && err != nil:
		return fmt.Errorf("%s command failed: %v", what, err)
	}
	return nil
}

// runVerifyDeltas restores a copy of a data directory taken in backup mode
// with the deltas of its backup, in a scratch copy, and verifies it.
func runVerifyDeltas(dir, deltaDir string, stdout, stderr io.Writer) int {
	scratch, err := os.MkdirTemp("", "simdomino-restore-")
	if err != nil {
		fmt.Fprintln(stderr, "simdomino verify:", err)
		return 2
	}
	defer os.RemoveAll(scratch)
	if err := snapshot.Copy(dir, scratch); err != nil {
		fmt.Fprintln(stderr, "simdomino verify:", err)
		return 2
	}
	r, err := nsf.VerifyWithDeltas(scratch, deltaDir)
	if err != nil {
		fmt.Fprintf(stdout, "NOT RESTORABLE: %v\n", err)
		return 1
	}
	if !r.Report.Consistent() {
		fmt.Fprintf(stdout, "INCONSISTENT after applying %d deltas of backup %s: %v %v\n", r.Applied, r.Backup, r.Report.Dirty, r.Report.Broken)
		return 1
	}
	fmt.Fprintf(stdout, "consistent: %d databases restored to the state of backup %s (%d deltas applied)\n", r.Report.Checked, r.Backup, r.Applied)
	return 0
}

func parseMs(v string) time.Duration {
	ms, _ := strconv.Atoi(v)
	return time.Duration(ms) * time.Millisecond
}
