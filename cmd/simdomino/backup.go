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

// defaultSnapshotLimit is how long the simulated Domino Backup lets each
// of the two snapshot commands run before it kills it and fails the backup
// (notes.ini SimBackupSnapshotTimeout). Domino documents no such limit;
// 120 s is the TIMEOUT of HCL's own scripts, modelled here as Domino's.
const defaultSnapshotLimit = 120 * time.Second

// The orders in which Domino may run the snapshot commands (HCL documents
// both; which one real Domino uses is not known here). notes.ini
// SimBackupOrder, set by install --backup-order.
const (
	// orderStart: the Snapshot Start Command takes the snapshot; backup
	// mode ends when it returns, the deltas are written, and only then
	// the Backup Snapshot Command runs (HCL's docs/snapshot.md and
	// interface.md, the admin help's "Snapshot backups").
	orderStart = "start"
	// orderSnapshot: backup mode lasts until the Backup Snapshot Command
	// returns (HCL's Veeam integration, concept.md).
	orderSnapshot = "snapshot"
)

// backupOrders are the orders install --backup-order takes.
var backupOrders = []string{orderStart, orderSnapshot}

// defaultRetentionDays is the 9th argument of the backup commands
// (BackupRetentionDays of HCL's Veeam configuration).
const defaultRetentionDays = "7"

// backupName is the BackupName Domino passes ("usually Default").
const backupName = "Default"

// Timeline events of the backup task.
const (
	evBackupStarted = "backup-started"     // the task runs
	evBackupModeAll = "backup-mode-all"    // every database is in backup mode
	evBackupEnding  = "backup-mode-ending" // the snapshot command returned; backup mode ends
	evBackupEnded   = "backup-mode-ended"  // every database is out of backup mode, deltas written
	evBackupDBState = "backup-db-state"    // detail "ID SHA256 REL": a database as its delta restores it (at the end of backup mode)
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
	for _, item := range []string{"BackupSnapshotStartCommand", "BackupTargetDirDb"} {
		if cfg.get(item) == "" {
			return nil, fmt.Errorf("the backup configuration has no %s (%s)", item, backupDB)
		}
	}
	return cfg, nil
}

// writeBackupConfig writes a snapshot configuration for quiesce, as an
// administrator would set it in dominobackup.nsf: quiesce as the snapshot
// commands, and as both restore commands (the database of a snapshot
// backup goes to the Restore Snapshot Command, its .DELTA to the Restore
// Db Command: HCL's interface.md), with restoreOpts before the arguments.
// The strings are those of HCL's Veeam configuration for Linux
// (backup_veeam_linux.dxl): RestoreOkString is "PROCESSED".
func writeBackupConfig(data, quiesce, deltaDir, restoreOpts string) error {
	cmd := func(op string) string { return quiesce + " domino-backup " + op }
	restore := cmd("restore-db")
	if restoreOpts != "" {
		restore += " " + restoreOpts
	}
	items := []string{
		"Status=1", "ConfigType=D", "Platform=LINUX",
		"BackupSnapshotMode=1",
		"BackupSnapshotStartCommand=" + cmd("snapshot-start"),
		"BackupSnapshotCommand=" + cmd("snapshot"),
		"BackupPostCommand=" + cmd("post"),
		"SnapshotStartOkString=Return: PROCESSED", "SnapshotStartErrString=Return: ERROR",
		"SnapshotOkString=Return: PROCESSED", "SnapshotErrString=Return: ERROR",
		"BackupOkString=Return: PROCESSED",
		"BackupRetentionDays=" + defaultRetentionDays,
		"BackupTargetDirDb=" + deltaDir,
		"RestoreSnapshotCommand=" + restore,
		"RestoreDbCommand=" + restore,
		"RestorePostCommand=" + cmd("restore-post"),
		"RestoreOkString=PROCESSED",
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
	limit := b.ini.seconds("SimBackupSnapshotTimeout", defaultSnapshotLimit)
	if err := b.command("snapshot start", "BackupSnapshotStartCommand", "SnapshotStart", limit); err != nil {
		b.leaveAll(false)
		return err
	}
	if b.ini.get("SimBackupOrder") == orderStart {
		// The snapshot exists when the start command returns: backup
		// mode ends, then the Backup Snapshot Command (optional) runs.
		if err := b.endBackupMode(); err != nil {
			return err
		}
		if b.cfg.get("BackupSnapshotCommand") != "" {
			if err := b.command("snapshot", "BackupSnapshotCommand", "Snapshot", limit); err != nil {
				return err
			}
		}
	} else {
		if err := b.command("snapshot", "BackupSnapshotCommand", "Snapshot", limit); err != nil {
			b.leaveAll(false)
			return err
		}
		if err := b.endBackupMode(); err != nil {
			return err
		}
	}
	if b.cfg.get("BackupPostCommand") != "" {
		if err := b.command("post", "BackupPostCommand", "Backup", 0); err != nil {
			return err
		}
	}
	b.con.printf("Backup: Snapshot backup %s completed", b.id)
	_ = timeline.Append(b.data, evBackupDone, b.id)
	return nil
}

// endBackupMode ends backup mode database by database, writing the deltas.
func (b *backupRun) endBackupMode() error {
	_ = timeline.Append(b.data, evBackupEnding, b.id)
	if err := b.leaveAll(true); err != nil {
		return err
	}
	_ = timeline.Append(b.data, evBackupEnded, b.id)
	b.con.printf("Backup: backup mode ended for %d databases; delta files in %s", len(b.dbs), b.deltaDir())
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
		// What a restore of this database with its delta must give:
		// Domino's restore task checks the restored database against it.
		_ = timeline.Append(b.data, evBackupDBState, b.id+" "+d.Final+" "+filepath.ToSlash(rel))
	}
	return nil
}

// command runs a configured backup command with Domino Backup's 9
// positional arguments (HCL's "Native OS commands": the 9th is
// RetentionDays) and judges it by the configured result strings. limit > 0
// bounds its run time: at the limit the command is killed and the backup
// fails.
func (b *backupRun) command(what, item, results string, limit time.Duration) error {
	retention := b.cfg.get("BackupRetentionDays")
	if retention == "" {
		retention = defaultRetentionDays
	}
	args := []string{"", "", "", b.node, backupName, backupMode, b.id, b.target, retention}
	_, err := runCommand(b.cfg, b.data, b.con, what, item, results, limit, b.abort, args)
	return err
}

// runCommand runs the configured command item with args in the data
// directory, as Domino runs its backup and restore commands: through the
// shell, the arguments appended. It logs the output on the console and
// judges it by the configured result strings: an error string found fails
// it; an OK string configured must be found; without an OK string the
// exit code decides. limit > 0 bounds its run time; abort (may be nil)
// kills it.
func runCommand(cfg backupConfig, data string, con *console, what, item, results string, limit time.Duration, abort <-chan struct{}, args []string) (string, error) {
	line := cfg.get(item)
	if line == "" {
		return "", fmt.Errorf("no %s command configured (%s)", what, item)
	}
	if dir := cfg.get("ScriptDir"); dir != "" && !filepath.IsAbs(line) {
		line = filepath.Join(dir, line)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if limit > 0 {
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	go func() {
		select {
		case <-abort:
			cancel()
		case <-ctx.Done():
		}
	}()
	cmd := exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", line + ` "$@"`, "sh"}, args...)...)
	cmd.Dir = data
	setGroup(cmd)
	b, err := cmd.CombinedOutput()
	out := string(b)
	task := "Backup"
	if results == "Restore" {
		task = "Restore"
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l != "" {
			con.printf("%s: [%s] %s", task, what, l)
		}
	}
	okStr, errStr := cfg.get(results+"OkString"), cfg.get(results+"ErrString")
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return out, fmt.Errorf("%s command did not return within %s", what, limit)
	case ctx.Err() != nil:
		return out, fmt.Errorf("%s command interrupted: the server is going down", what)
	case errStr != "" && strings.Contains(out, errStr):
		return out, fmt.Errorf("%s command reported an error (%q)", what, errStr)
	case okStr != "" && !strings.Contains(out, okStr):
		return out, fmt.Errorf("%s command did not report %q", what, okStr)
	case okStr == "" && err != nil:
		return out, fmt.Errorf("%s command failed: %v", what, err)
	}
	return out, nil
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
