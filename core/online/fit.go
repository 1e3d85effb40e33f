package online

import (
	"time"

	"github.com/quiesce/quiesce/core/freeze"
)

// Fit is how an online freeze fits a caller's limit: the longest it
// waits for every database to enter backup mode, and whether that is
// enough to be worth trying.
type Fit struct {
	Budget time.Duration // the caller's limit; 0: none
	Enter  time.Duration // the longest the freeze waits for backup mode
	Margin time.Duration // kept free of a hard limit to cancel the backup
	Capped bool          // Enter is shorter than backup_enter_timeout
	Fits   bool
}

// MinEnter is the shortest wait for backup mode worth attempting: Domino
// Backup must load its task and put every database into backup mode.
const MinEnter = 3 * time.Second

// CancelMargin is what an online freeze keeps free of a caller's hard
// limit to cancel a backup that did not enter backup mode in time and
// answer before the caller kills it: a fifth of the limit, 2 s to 30 s.
func CancelMargin(limit time.Duration) time.Duration {
	return min(max(limit/5, 2*time.Second), 30*time.Second)
}

// FitCaller is how an online freeze with settings s fits caller c. For a
// caller that kills its hook at its limit the wait for backup mode ends
// CancelMargin before it, so that a failed attempt is cancelled and
// answered, never killed half-way.
func FitCaller(c freeze.Caller, s Settings) Fit {
	f := Fit{Budget: c.Budget, Enter: s.EnterTimeout}
	if c.Budget > 0 {
		avail := c.Budget
		if c.Hard {
			f.Margin = CancelMargin(c.Budget)
			avail -= f.Margin
		}
		if avail < f.Enter {
			f.Enter, f.Capped = max(avail, 0), true
		}
	}
	f.Fits = f.Enter >= MinEnter
	return f
}

// enterBy is when an online freeze by c that began its operation at now
// stops waiting for backup mode.
func (e *Method) enterBy(c freeze.Caller, now time.Time) time.Time {
	began := c.Began
	if began.IsZero() {
		began = now
	}
	by := now.Add(e.set.EnterTimeout)
	if c.Hard && c.Budget > 0 {
		by = earliest(by, began.Add(c.Budget-CancelMargin(c.Budget)))
	}
	return by
}
