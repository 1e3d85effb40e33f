package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/holder"
	"github.com/quiesce/quiesce/core/mariadb"
	"github.com/quiesce/quiesce/core/postgresql"
)

// checkDatabases says, for each database server frozen online (kind =
// postgresql or mariadb), how a freeze makes its snapshot consistent,
// whether quiesce's connection to it works (a holder connects as a freeze
// would, and changes nothing), and, for every caller, how long a freeze
// waits for the lock against the caller's limit and how long the lock is
// held at most. It returns its lines (the per-caller ones only in full,
// or when one does not fit) and whether every connection works and fits.
func (e *env) checkDatabases(c *cli.Context, ss []*freeze.Session, p freeze.Policy, cfg config.File, full bool) ([]string, bool) {
	ok := true
	var out []string
	say := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	for _, s := range ss {
		m, isDB := s.Methods()[0].(*holder.Method)
		if !isDB {
			continue
		}
		name := s.Instance().Name
		method := "online"
		if len(s.Methods()) > 1 {
			method = "auto: the stop below when the online freeze cannot be used"
		}
		say("%s: %s server, frozen online (method %s)", name, m.Driver().Server(), method)
		facts, err := m.Probe(c.Context, name)
		if err != nil {
			say("  connection FAILED: %v", err)
			ok = false
		} else {
			say("  connection works: %s, session %s", facts[holder.FactServer], facts[holder.FactSession])
			say("  a freeze: %s", dbFreezeWords(facts))
			if w := facts[holder.FactWarning]; w != "" {
				say("  WARNING: %s", w)
				ok = false
			}
		}
		held := facts[holder.FactMode] != postgresql.ModeCheckpoint
		for _, a := range e.adapters {
			caller := configuredLimits(cfg, a.Name).Or(a.Defaults).Caller(a.Name, "", time.Time{})
			plan := m.Plan(caller)
			limit := "no limit"
			if caller.Budget > 0 {
				limit = caller.Budget.Round(time.Second).String() + " per freeze"
				if caller.Cycle {
					limit = caller.Budget.Round(time.Second).String() + " one timer"
				}
			}
			line := "lock within " + plan.Graceful.Round(time.Millisecond).String() + " (limit " + limit + ")"
			fits := !plan.TooTight
			if !fits {
				line = "DOES NOT FIT: " + line + ": too little to take the lock"
				ok = false
			}
			if held {
				line += "; held until the thaw, at most " + m.Hold(p.Window(caller)).Round(time.Second).String()
			} else {
				line += "; nothing held after it"
			}
			if full || !fits {
				say("  %-9s %s", a.Name, line)
			}
		}
	}
	return out, ok
}

// dbFreezeWords says how a freeze would make the server's snapshot
// consistent, from a probe's facts.
func dbFreezeWords(f holder.Facts) string {
	switch f[holder.FactMode] {
	case mariadb.ModeBackupStage:
		return "BACKUP STAGE START and BLOCK_COMMIT held from the freeze to the thaw (commits wait, reads go on), binary log position recorded"
	case mariadb.ModeLockInst:
		return "LOCK INSTANCE FOR BACKUP and FLUSH TABLES WITH READ LOCK held from the freeze to the thaw (writes wait, reads go on)"
	case mariadb.ModeFTWRL:
		return "FLUSH TABLES WITH READ LOCK held from the freeze to the thaw (writes wait, reads go on)"
	case postgresql.ModeCheckpoint:
		return "CHECKPOINT (" + f[postgresql.FactWhy] + "); nothing held, writes go on"
	case postgresql.ModeBackup:
		return "pg_backup_start held from the freeze to the thaw (" + f[postgresql.FactWhy] + "; archive_mode " + f[postgresql.FactArchiveMod] + "), the label kept at the thaw"
	}
	return f[holder.FactMode]
}
