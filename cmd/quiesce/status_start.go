package main

import (
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/state"
)

// startNoteAge is how long status shows a settled start note.
const startNoteAge = 24 * time.Hour

// sayStartNotes adds to status what became of the last start a thaw
// handed to the watchdog (bounded thaw): while the watchdog is still
// proving readiness, and for a day after it settled.
func (e *env) sayStartNotes(c *cli.Context, cfg config.File) {
	dir := e.stateDir(c, cfg)
	if _, err := os.Stat(dir); err != nil {
		return // no freeze ever ran here
	}
	store, err := state.Open(dir)
	if err != nil {
		return
	}
	var names []string
	if cfg.HasDomino {
		names = append(names, domino.TargetName)
	}
	for _, g := range cfg.Targets {
		names = append(names, g.Name)
	}
	for _, name := range names {
		n, ok, err := store.LoadStartNote(name)
		if err != nil || !ok || (!n.Open() && e.clock.Now().Sub(n.Updated) > startNoteAge) {
			continue
		}
		e.say("last start after a thaw (%s): %s (%s)", n.Outcome, n.Message, n.Updated.Format(time.DateTime))
	}
}
