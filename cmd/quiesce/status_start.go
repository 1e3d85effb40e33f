package main

import (
	"os"
	"time"

	"github.com/urfave/cli/v2"
)

// startNoteAge is how long status shows a settled start note.
const startNoteAge = 24 * time.Hour

// sayStartNotes adds to status what became of the last start a thaw
// handed to the watchdog (bounded thaw): while the watchdog is still
// proving readiness, and for a day after it settled.
func (e *env) sayStartNotes(c *cli.Context) {
	eng, err := e.engine(c)
	if err != nil {
		return
	}
	if _, err := os.Stat(eng.StateDir()); err != nil {
		return // no freeze ever ran here
	}
	ss, err := eng.Sessions()
	if err != nil {
		return
	}
	for _, s := range ss {
		n, ok, err := s.StartNote()
		if err != nil || !ok || (!n.Open() && e.clock.Now().Sub(n.Updated) > startNoteAge) {
			continue
		}
		e.say("last start after a thaw (%s): %s (%s)", n.Outcome, n.Message, n.Updated.Format(time.DateTime))
	}
}
