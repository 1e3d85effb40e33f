package freeze

import (
	"fmt"
	"time"
)

// Outcome says what a freeze or thaw did.
type Outcome int

// Outcomes.
const (
	Stopped       Outcome = iota // freeze: the application was stopped
	NotRunning                   // freeze: it was not running; nothing changed
	Joined                       // freeze: already frozen by another caller; joined
	Refreshed                    // freeze: this caller froze it already; deadline renewed
	Started                      // thaw: the application was started and serves
	NothingToThaw                // thaw: nothing was frozen (thaw twice, thaw without freeze)
	StillHeld                    // thaw: other callers still hold the freeze
	NotStarted                   // thaw: it was not running before the freeze; left stopped
	FoundRunning                 // thaw: someone started it meanwhile
	BackupMode                   // freeze: online, every database in backup mode; nothing stopped
	Released                     // thaw: online backup mode ended; the application never stopped
	Launched                     // thaw: launched, not serving yet at the caller's thaw limit; the watchdog proves readiness
)

var outcomeNames = [...]string{"stopped", "not-running", "joined", "refreshed", "started",
	"nothing-to-thaw", "still-held", "not-started", "found-running", "backup-mode", "released", "launched"}

func (o Outcome) String() string {
	if o == StoodAside {
		return "stood-aside"
	}
	if o < 0 || int(o) >= len(outcomeNames) {
		return fmt.Sprintf("outcome-%d", int(o))
	}
	return outcomeNames[o]
}

// Result describes a freeze or thaw.
type Result struct {
	Outcome  Outcome
	Method   string        // the freeze method that acted ("stop", "domino-backup"); "" when none did
	Message  string        // one short line for the caller
	Warnings []string      // things the caller should know (forced stop, ...)
	Took     time.Duration // wall time of the operation
	Downtime time.Duration // how long the application was down (a thaw, a recovery, a failed freeze that restored it)
	Window   time.Duration // thaw: how long the freeze held, from consistent to this thaw
	Forced   bool          // the application had to be killed
	Fallback bool          // freeze: online mode failed; the application was stopped instead
	Holders  []string      // callers still holding the freeze
}
