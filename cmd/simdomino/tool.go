package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/quiesce/quiesce/cmd/simdomino/nsf"
)

func runTool(self string, args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 {
		fmt.Fprint(stderr, toolUsage)
		return 2
	}
	switch args[1] {
	case "install":
		return runInstall(self, args[2:], stdout, stderr)
	case "uninstall":
		return runUninstall(args[2:], stdout, stderr)
	case "verify":
		return runVerify(args[2:], stdout, stderr)
	case "restore":
		return runRestore(args[2:], stdout, stderr)
	case "demo":
		return runDemo(self, args[2:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, toolUsage)
		return 0
	}
	fmt.Fprintf(stderr, "simdomino: unknown command %q\n%s", args[1], toolUsage)
	return 2
}

func runInstall(self string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("install", flag.ContinueOnError)
	var o installOpts
	fs.StringVar(&o.root, "root", "", "installation root (required)")
	fs.StringVar(&o.user, "user", "", "user the server runs as (default: current user; as root: notes)")
	fs.IntVar(&o.port, "port", 1352, "NRPC port (0: pick a free one)")
	fs.StringVar(&o.tasks, "tasks", DefaultTasks, "server tasks, comma-separated")
	fs.StringVar(&o.shutdownSeconds, "shutdown-seconds", "2", "how long a clean shutdown takes")
	fs.StringVar(&o.startSeconds, "start-seconds", "1", "how long until the server is ready")
	fs.IntVar(&o.shutdownTimeout, "shutdown-timeout", 60, "DOMINO_SHUTDOWN_TIMEOUT written to rc_domino_config")
	fs.BoolVar(&o.backup, "backup", false, "configure Domino Backup's snapshot mode (dominobackup.nsf) to run quiesce")
	fs.StringVar(&o.quiesce, "quiesce", "quiesce", "the quiesce binary the snapshot commands run (with --backup)")
	fs.StringVar(&o.deltaDir, "delta-dir", "", "BackupTargetDirDb, where the .DELTA files go (default ROOT/local/backup/nsf)")
	fs.StringVar(&o.backupOrder, "backup-order", orderSnapshot, "when Domino Backup ends backup mode (with --backup): \"start\", when the Snapshot Start Command returns (HCL's docs/snapshot.md), or \"snapshot\", when the Backup Snapshot Command returns (HCL's Veeam integration)")
	fs.StringVar(&o.restoreOpts, "restore-options", "", "options for \"quiesce domino-backup restore-db\" in the restore commands (with --backup), e.g. \"--mount-root /mnt/restore\"")
	fs.StringVar(&o.service, "service", defaultService, "Windows: the name of the service to register")
	if code, ok := parseFlags(fs, "simdomino install --root DIR [options]: install a simulated Domino server under DIR", args, stdout, stderr); !ok {
		return code
	}
	if o.root == "" {
		fmt.Fprintln(stderr, "simdomino install: --root is required")
		return 2
	}
	if !slices.Contains(backupOrders, o.backupOrder) {
		fmt.Fprintf(stderr, "simdomino install: --backup-order %q: want %s\n", o.backupOrder, strings.Join(backupOrders, " or "))
		return 2
	}
	if err := install(self, o, stdout); err != nil {
		fmt.Fprintln(stderr, "simdomino install:", err)
		return 1
	}
	return 0
}

// runVerify exits 0 only when every database under DIR was closed cleanly
// (and there is at least one); with --delta DIR, when the copy restored
// with those deltas is.
func runVerify(args []string, stdout, stderr io.Writer) int {
	const synopsis = "simdomino verify DIR [--delta DELTADIR]: exit 0 when every database under DIR (a copy of the data directory) was closed cleanly; with --delta, when DIR restored with the deltas in DELTADIR (one backup's) is consistent"
	if len(args) == 3 && args[1] == "--delta" { // DIR --delta DELTADIR
		args = []string{"--delta", args[2], args[0]}
	}
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	delta := fs.String("delta", "", "the .DELTA files of the backup the copy was taken in")
	if code, ok := parseFlags(fs, synopsis, args, stdout, stderr); !ok {
		return code
	}
	if args = fs.Args(); len(args) != 1 {
		fmt.Fprintln(stderr, "usage: "+synopsis)
		return 2
	}
	if *delta != "" {
		return runVerifyDeltas(args[0], *delta, stdout, stderr)
	}
	r, err := nsf.Verify(args[0])
	if err != nil {
		fmt.Fprintln(stderr, "simdomino verify:", err)
		return 2
	}
	for _, d := range r.Dirty {
		fmt.Fprintf(stdout, "open (not closed cleanly): %s\n", d)
	}
	for _, b := range r.Broken {
		fmt.Fprintf(stdout, "not a database: %s\n", b)
	}
	if r.Checked == 0 {
		fmt.Fprintf(stdout, "no databases under %s\n", args[0])
		return 1
	}
	if !r.Consistent() {
		fmt.Fprintf(stdout, "INCONSISTENT: %d of %d databases not closed cleanly\n", len(r.Dirty)+len(r.Broken), r.Checked)
		if tags := nsf.BackupTags(args[0]); len(tags) > 0 {
			fmt.Fprintf(stdout, "taken in backup mode (backup %s): restorable only with that backup's deltas (--delta DIR)\n", strings.Join(tags, ", "))
		}
		return 1
	}
	fmt.Fprintf(stdout, "consistent: %d databases, all closed cleanly\n", r.Checked)
	return 0
}
