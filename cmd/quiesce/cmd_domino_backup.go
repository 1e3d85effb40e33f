package main

import (
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/core/online"
)

// dominoBackupCommand is the Domino side of online mode: the commands
// Domino Backup runs, as the Domino user, at snapshot start, snapshot and
// post. They read no quiesce configuration and touch no quiesce state;
// everything they say goes to standard output, where Domino Backup looks
// for "Return: PROCESSED" or "Return: ERROR".
func dominoBackupCommand(e *env) *cli.Command {
	dataFlag := &cli.StringFlag{Name: "data", Usage: "Domino data directory (default: the working directory, where Domino runs its commands)"}
	sub := func(name, usage string, flags []cli.Flag, run func(c *cli.Context, s online.Side) int) *cli.Command {
		return &cli.Command{Name: name, Usage: usage, ArgsUsage: "ARGS... (as Domino Backup passes them)",
			Flags: append([]cli.Flag{dataFlag}, flags...),
			Action: func(c *cli.Context) error {
				s := online.Side{Data: c.String("data"), Out: e.io.out}
				if s.Data == "" {
					s.Data, _ = os.Getwd()
				}
				if err := s.CheckUser(); err != nil {
					e.say("%s - quiesce domino-backup %s: %v", online.Err, name, err)
					return &exitError{code: ExitPrivilege}
				}
				if code := run(c, s); code != 0 {
					return &exitError{code: code}
				}
				return nil
			}}
	}
	parse := func(c *cli.Context, s online.Side, restore bool) (online.Args, bool) {
		a, err := online.ParseArgs(c.Args().Slice(), restore)
		if err != nil {
			s.Out.Write([]byte(online.Err + " - " + err.Error() + "\n"))
			return a, false
		}
		return a, true
	}
	return &cli.Command{
		Name:  "domino-backup",
		Usage: "the commands Domino Backup runs in online mode (snapshot-start, snapshot, post) and to restore (restore-db, restore-post), as the Domino user",
		Subcommands: []*cli.Command{
			sub("snapshot-start", "Snapshot Start Command: every database is in backup mode; holds it until the snapshot is taken",
				[]cli.Flag{holdTimeout()},
				func(c *cli.Context, s online.Side) int {
					a, ok := parse(c, s, false)
					if !ok {
						return ExitUsage
					}
					return s.SnapshotStart(c.Context, a, c.Duration("timeout"))
				}),
			sub("snapshot", "Backup Snapshot Command: returns once the snapshot is taken (the start command held backup mode until then)",
				[]cli.Flag{holdTimeout()},
				func(c *cli.Context, s online.Side) int {
					a, ok := parse(c, s, false)
					if !ok {
						return ExitUsage
					}
					return s.Snapshot(c.Context, a, c.Duration("timeout"))
				}),
			sub("post", "Backup Post Command: backup mode ended, deltas written",
				[]cli.Flag{&cli.IntFlag{Name: "keep", Value: 7, Usage: "keep the deltas of this many backups, prune older ones (0: never prune)"},
					&cli.StringFlag{Name: "copy-to", Usage: "also copy each backup's deltas under this directory"}},
				func(c *cli.Context, s online.Side) int {
					a, ok := parse(c, s, false)
					if !ok {
						return ExitUsage
					}
					return s.Post(a, c.Int("keep"), c.String("copy-to"))
				}),
			sub("restore-db", "Restore Snapshot Command and Restore Db Command: copy a database from the restore point that holds its backup's tag, or its .DELTA from where the backup kept it",
				restoreFlags(),
				func(c *cli.Context, s online.Side) int {
					a, ok := parse(c, s, true)
					if !ok {
						return ExitUsage
					}
					return s.RestoreDb(c.Context, a, restoreOptions(c))
				}),
			sub("restore-post", "Restore Post Command: the restore request is finished; run the unmount command",
				[]cli.Flag{&cli.StringFlag{Name: "unmount-command", Usage: "run this (words separated by blanks, no shell) to unmount the restore points"}},
				func(c *cli.Context, s online.Side) int {
					return s.RestorePost(c.Context, restoreOptions(c))
				}),
		},
	}
}

// restoreFlags are restore-db's options, given before Domino's arguments
// in the configured command.
func restoreFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "mount-root", Usage: "a directory below which restore points are mounted (repeat for several); the backup's tag file is looked for there, at most 6 levels down"},
		&cli.StringFlag{Name: "mount-command", Usage: "run this (words separated by blanks, no shell; BackupStartDT appended) when no mounted restore point holds the tag, then wait for it"},
		&cli.DurationFlag{Name: "mount-wait", Value: 60 * time.Second, Usage: "how long the mount command may take and the tag may take to appear"},
		&cli.StringSliceFlag{Name: "copy-to", Usage: "where post --copy-to kept the deltas (repeat for several)"},
	}
}

// restoreOptions reads the restore commands' options.
func restoreOptions(c *cli.Context) online.RestoreOptions {
	return online.RestoreOptions{MountRoots: c.StringSlice("mount-root"), MountCommand: strings.Fields(c.String("mount-command")),
		MountWait: c.Duration("mount-wait"), UnmountCommand: strings.Fields(c.String("unmount-command")), CopyTo: c.StringSlice("copy-to")}
}

// holdTimeout is the --timeout of the commands that hold backup mode for
// the snapshot. Domino documents no limit of its own for them; HCL's
// scripts give up after 120 s. quiesce's thaw or watchdog ends backup mode
// by backup_max_window (100 s); this is the Domino side's own bound,
// should neither come.
func holdTimeout() cli.Flag {
	return &cli.DurationFlag{Name: "timeout", Value: 110 * time.Second,
		Usage: "give up (and fail the backup) when no snapshot is reported after this; HCL's scripts give up after 120s"}
}
