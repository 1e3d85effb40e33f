// Domino's restore task, played for one database: the restore request an
// administrator files in dominobackup.nsf (Restore tab), carried out as
// Domino Backup does for a backup taken in snapshot mode.

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/quiesce/quiesce/cmd/simdomino/nsf"
	"github.com/quiesce/quiesce/cmd/simdomino/timeline"
)

// Restore names: how the simulated Domino passes RestoreFileName for the
// database (which one real Domino passes is not documented; HCL's
// formula documentation says it includes .DAD, HCL's scripts append .DAD
// when it does not).
const (
	restoreNameDAD   = "dad"   // RestoreFileName is the restore name with .DAD for its extension; the copy goes there
	restoreNamePlain = "plain" // RestoreFileName is the restore name itself; the copy goes there with .DAD appended
)

// restoreRequest is one database to restore.
type restoreRequest struct {
	data, backup, db, to, names string
	cfg                         backupConfig
	node, target                string
	con                         *console
}

// runRestore plays Domino's restore task for one database of one backup:
// the database through the Restore Snapshot Command (the Restore Db
// Command when none is set), its .DELTA through the Restore Db Command
// (HCL's interface.md: "For *.DELTA files always the normal restore
// command is used"), each with HCL's 9 arguments and judged by the
// Restore OK and Error Strings; then it applies the delta, checks that
// the restored database holds exactly what the database held when backup
// mode ended (what Domino recorded then), moves it to its name, removes
// the delta and runs the Restore Post Command. Exit 0 only when all that
// holds.
func runRestore(args []string, stdout, stderr io.Writer) int {
	const synopsis = "simdomino restore --data DIR --backup ID --db PATH --to PATH [--restore-name dad|plain]: play Domino's restore task for one database of a snapshot backup, as the Domino user"
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	var q restoreRequest
	fs.StringVar(&q.data, "data", "", "the server's data directory (required)")
	fs.StringVar(&q.backup, "backup", "", "the backup to restore from: its BackupStartDT (required)")
	fs.StringVar(&q.db, "db", "", "the database, relative to the data directory (required)")
	fs.StringVar(&q.to, "to", "", "the new name to restore it to, relative to the data directory (required)")
	fs.StringVar(&q.names, "restore-name", restoreNameDAD, "how RestoreFileName is passed for the database: \"dad\" (with .DAD) or \"plain\" (the new name; .DAD expected appended)")
	if code, ok := parseFlags(fs, synopsis, args, stdout, stderr); !ok {
		return code
	}
	if q.data == "" || q.backup == "" || q.db == "" || q.to == "" || fs.NArg() > 0 || (q.names != restoreNameDAD && q.names != restoreNamePlain) {
		fmt.Fprintln(stderr, "usage: "+synopsis)
		return 2
	}
	if runtime.GOOS == "windows" {
		fmt.Fprintln(stderr, "simdomino restore: Domino Backup is simulated on Linux only")
		return 2
	}
	q.con = newConsole(q.data, stdout)
	if err := q.run(); err != nil {
		q.con.printf("Restore: Error: %v", err)
		return 1
	}
	return 0
}

func (q *restoreRequest) run() error {
	cfg, err := readBackupConfig(q.data)
	if err != nil {
		return err
	}
	n, err := readIni(q.data)
	if err != nil {
		return err
	}
	q.cfg, q.node, q.target = cfg, nodeName(n.get("ServerName"), cfg.get("NodeName")), cfg.get("BackupTargetDirDb")
	want, hasDelta, err := q.witness()
	if err != nil {
		return err
	}
	final := filepath.Join(q.data, filepath.FromSlash(q.to))
	if _, err := os.Stat(final); err == nil {
		return fmt.Errorf("%s exists already: restore to a new name", q.to)
	}
	dbName := final
	if q.names == restoreNameDAD {
		dbName = strings.TrimSuffix(final, filepath.Ext(final)) + ".DAD"
	}
	dad := dbName
	if q.names == restoreNamePlain {
		dad += ".DAD"
	}
	item := "RestoreSnapshotCommand"
	if cfg.get(item) == "" {
		item = "RestoreDbCommand"
	}
	if err := q.call("restore db", item, q.db, filepath.Join(q.data, filepath.FromSlash(q.db)), dbName); err != nil {
		return err
	}
	if !isRegular(dad) {
		return fmt.Errorf("the restore command reported success, but %s is not there", dad)
	}
	delta := final + nsf.DeltaExt
	if hasDelta {
		rel := q.db + nsf.DeltaExt
		if err := q.call("restore delta", "RestoreDbCommand", rel, filepath.Join(q.target, q.node, backupMode, q.backup, filepath.FromSlash(rel)), delta); err != nil {
			return err
		}
		d, err := nsf.ReadDelta(delta)
		if err != nil {
			return err
		}
		if err := d.Apply(dad); err != nil {
			return fmt.Errorf("applying the delta: %w", err)
		}
	}
	got, err := nsf.BodyHash(dad)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("the restored %s does not hold what %s held when backup %s ended backup mode", q.to, q.db, q.backup)
	}
	if err := os.Rename(dad, final); err != nil {
		return err
	}
	_ = os.Remove(delta)
	if cfg.get("RestorePostCommand") != "" {
		if err := q.call("restore post", "RestorePostCommand", "", "", ""); err != nil {
			return err
		}
	}
	q.con.printf("Restore: %s of backup %s restored to %s (delta applied: %v); it holds what it held when backup mode ended", q.db, q.backup, q.to, hasDelta)
	return nil
}

// witness is what the database held when backup q.backup ended backup
// mode, as the backup task recorded it, and whether a delta was written.
func (q *restoreRequest) witness() (string, bool, error) {
	evs, err := timeline.Read(q.data)
	if err != nil {
		return "", false, err
	}
	for _, ev := range evs {
		f := strings.SplitN(ev.Detail, " ", 3)
		if ev.Name == evBackupDBState && len(f) == 3 && f[0] == q.backup && f[2] == q.db {
			return f[1], true, nil
		}
	}
	return "", false, fmt.Errorf("backup %s wrote no delta of %s: no such database in that backup", q.backup, q.db)
}

// call runs a restore command with HCL's 9 arguments (PhysicalFileName,
// FileName, BackupReference, BackupNode, BackupName, BackupMode,
// BackupStartDT, BackupTargetDir, RestoreFileName).
func (q *restoreRequest) call(what, item, file, physical, restoreTo string) error {
	args := []string{physical, filepath.FromSlash(file), dbiid(q.db), q.node, backupName, backupMode, q.backup, q.target, restoreTo}
	_, err := runCommand(q.cfg, q.data, q.con, what, item, "Restore", 0, nil, args)
	return err
}

// dbiid is a database's backup reference (its DBIID in Domino).
func dbiid(db string) string {
	sum := sha256.Sum256([]byte(db))
	return strings.ToUpper(hex.EncodeToString(sum[:8]))
}

func isRegular(path string) bool {
	st, err := os.Lstat(path)
	return err == nil && st.Mode().IsRegular()
}
