package main

import (
	"bufio"
	"encoding/json"
	"io"
	"sort"
	"strings"
	"time"
)

// cycle is one freeze and the thaw (or recovery) that ended it, as
// quiesce's JSON log tells it.
type cycle struct {
	When   time.Time `json:"when"` // the freeze (or a thaw without a freeze)
	Target string    `json:"target"`
	Caller string    `json:"caller"`
	Job    string    `json:"job,omitempty"`
	Freeze string    `json:"freeze,omitempty"` // the freeze's outcome, "failed"
	Thaw   string    `json:"thaw,omitempty"`   // the thaw's outcome; "expired: ..." when the watchdog ended it
	Outage *float64  `json:"outage_seconds,omitempty"`
	Window *float64  `json:"window_seconds,omitempty"`
	// Quiesced: whether the snapshot of this cycle was (see quiesced);
	// nil when the log does not say (no thaw yet, a thaw without freeze).
	Quiesced *bool    `json:"quiesced,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	Error    string   `json:"error,omitempty"`
	open     bool
}

// notQuiesced are the words of a thaw's error that say its snapshot is
// not consistent (freeze.ErrNotQuiesced: a late thaw, an online backup
// that failed); a thaw that failed otherwise (a start after a stop)
// leaves the snapshot as good as the freeze made it.
var notQuiesced = []string{"late thaw", "not restorable"}

func quiescedAfter(thawErr string) bool {
	for _, w := range notQuiesced {
		if strings.Contains(thawErr, w) {
			return false
		}
	}
	return true
}

func boolPtr(b bool) *bool { return &b }

// logLine is what history reads of a log line.
type logLine struct {
	TS       time.Time `json:"ts"`
	Msg      string    `json:"msg"`
	Instance string    `json:"instance"` // since records belong to instances
	Target   string    `json:"target"`   // before: "domino", "domino-online", a [target]'s name
	Op       string    `json:"op"`
	Caller   string    `json:"caller"`
	Job      string    `json:"job"`
	By       string    `json:"by"`
	Outcome  string    `json:"outcome"`
	Downtime *float64  `json:"downtime"`
	Forced   bool      `json:"forced"`
	Window   *float64  `json:"window"`
	Warnings []string  `json:"warnings"`
	Error    string    `json:"error"`
}

// The freeze engines' one line per operation, and recovery's.
const (
	msgDone         = "operation done"
	msgFailed       = "operation failed"
	msgOnlineDone   = "domino operation done"
	msgOnlineFailed = "domino operation failed"
	msgRecovered    = "recovered"
)

// readCycles reads every cycle from a quiesce JSON log, in log order.
// Lines that are not JSON or not an operation are skipped: the log is
// shared by every quiesce run, and a line cut by a crash must not hide
// the rest.
func readCycles(r io.Reader) ([]cycle, error) {
	var h historian
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		var l logLine
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue
		}
		if l.Instance != "" {
			l.Target = l.Instance
		}
		if l.Target == "" {
			continue
		}
		h.add(l)
	}
	return h.cycles, sc.Err()
}

type historian struct{ cycles []cycle }

func (h *historian) add(l logLine) {
	failed := l.Msg == msgFailed || l.Msg == msgOnlineFailed
	if l.Target == "domino-online" {
		l.Target = "domino" // the online engine's record: the same server
	}
	switch {
	case l.Msg == msgRecovered:
		h.recovered(l)
	case l.Msg != msgDone && l.Msg != msgOnlineDone && !failed:
	case l.Op == "freeze":
		h.freeze(l, failed)
	case l.Op == "thaw":
		h.thaw(l, failed)
	}
}

// open finds the cycle target and caller have not ended yet.
func (h *historian) open(target, caller string) *cycle {
	for i := len(h.cycles) - 1; i >= 0; i-- {
		c := &h.cycles[i]
		if c.open && c.Target == target && c.Caller == caller {
			return c
		}
	}
	return nil
}

func (h *historian) freeze(l logLine, failed bool) {
	if c := h.open(l.Target, l.Caller); c != nil {
		if !failed && (l.Outcome == "refreshed" || l.Outcome == "joined") {
			c.Warnings = append(c.Warnings, l.Warnings...)
			return // the same caller's freeze renewed
		}
		c.open = false
		c.Warnings = append(c.Warnings, "no thaw came before the next freeze")
	}
	c := cycle{When: l.TS, Target: l.Target, Caller: l.Caller, Job: l.Job, Freeze: l.Outcome, Warnings: l.Warnings, open: true}
	if failed {
		// a failed freeze that stopped (or killed) the application and
		// started it again caused an outage of its own
		c.Freeze, c.Error, c.open, c.Outage, c.Quiesced = "failed", l.Error, false, positive(l.Downtime), boolPtr(false)
		if l.Forced {
			c.Warnings = append(c.Warnings, "the application had to be killed")
		}
	}
	h.cycles = append(h.cycles, c)
}

func (h *historian) thaw(l logLine, failed bool) {
	c := h.open(l.Target, l.Caller)
	if c == nil {
		h.cycles = append(h.cycles, cycle{When: l.TS, Target: l.Target, Caller: l.Caller, Job: l.Job})
		c = &h.cycles[len(h.cycles)-1]
	}
	c.open = false
	c.Thaw, c.Outage, c.Window = l.Outcome, positive(l.Downtime), positive(l.Window)
	c.Warnings = append(c.Warnings, l.Warnings...)
	switch {
	case failed:
		c.Thaw, c.Error = "failed", l.Error
		c.Quiesced = boolPtr(quiescedAfter(l.Error))
	case c.Freeze != "" && l.Outcome != "nothing-to-thaw":
		c.Quiesced = boolPtr(true)
	}
}

// recovered ends the target's open cycles: a freeze the watchdog (or
// 'quiesce recover') brought back. A recovery before an operation, or one
// that found nothing, leaves them.
func (h *historian) recovered(l logLine) {
	if l.Outcome == "nothing-to-thaw" || l.Outcome == "still-held" {
		return
	}
	for i := range h.cycles {
		c := &h.cycles[i]
		if !c.open || c.Target != l.Target {
			continue
		}
		c.open = false
		c.Thaw, c.Outage, c.Quiesced = "expired: "+l.Outcome+" by "+l.By, positive(l.Downtime), boolPtr(false)
	}
}

func positive(s *float64) *float64 {
	if s == nil || *s <= 0 {
		return nil
	}
	return s
}

// lastCycles keeps the last n cycles of each target (only target's when
// it is set), ordered by target, then time.
func lastCycles(all []cycle, target string, n int) []cycle {
	by := map[string][]cycle{}
	var names []string
	for _, c := range all {
		if target != "" && c.Target != target && !strings.HasPrefix(c.Target, target+" ") {
			continue
		}
		if _, ok := by[c.Target]; !ok {
			names = append(names, c.Target)
		}
		by[c.Target] = append(by[c.Target], c)
	}
	sort.Strings(names)
	var out []cycle
	for _, name := range names {
		cs := by[name]
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].When.Before(cs[j].When) })
		out = append(out, cs[max(len(cs)-n, 0):]...)
	}
	return out
}
