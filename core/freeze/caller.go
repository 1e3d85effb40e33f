package freeze

import (
	"os"
	"time"

	"github.com/quiesce/quiesce/core/state"
)

// Caller is who asks for a freeze or thaw.
type Caller struct {
	Name   string        // vmware, veeam, arcserve, qemu, cli, ...
	Job    string        // the caller's job identity, when it gives one
	Budget time.Duration // time the caller allows one invocation; 0: none
	Limits               // thaw limit, and whether one timer covers the whole cycle
	Began  time.Time     // when the caller's invocation began; zero: when the operation begins
}

func (c Caller) holder(now time.Time) state.Holder {
	return state.Holder{Caller: c.Name, Job: c.Job, Since: now, PID: os.Getpid()}
}

// Policy are the freeze settings.
type Policy struct {
	ContinueForced bool          // a forced stop still counts as a successful freeze
	LockWait       time.Duration // wait for another quiesce at most this long
	WatchdogMargin time.Duration // deadline = freeze + caller budget + margin
	DefaultWindow  time.Duration // deadline window for callers without a budget
	Deadline       time.Duration // fixed deadline window; 0: budget + margin
	// CrashConsistent: a freeze of an application found crashed (its
	// leftovers say it did not shut down cleanly) succeeds, with a warning
	// that the snapshot is only crash-consistent; by default it fails.
	CrashConsistent bool
}

// Window is how long a freeze by c holds when no thaw comes: the fixed
// deadline, else the caller's budget (or the default window) plus the
// margin.
func (p Policy) Window(c Caller) time.Duration {
	if p.Deadline > 0 {
		return p.Deadline
	}
	w := c.Budget
	if w == 0 {
		w = p.DefaultWindow
	}
	return w + p.WatchdogMargin
}
