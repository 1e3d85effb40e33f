package main

import (
	"os"
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
		Usage: "the commands Domino Backup runs in online mode (snapshot-start, snapshot, post), as the Domino user",
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
		},
	}
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
