package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/generic"
	"github.com/quiesce/quiesce/core/online"
	"github.com/quiesce/quiesce/core/state"
)

// freezeView is what status shows of one target's freeze state.
type freezeView struct {
	Holders   []holderView `json:"holders"`
	Since     *time.Time   `json:"since,omitempty"`    // the freeze began (quiesce stopped the application then)
	Deadline  *time.Time   `json:"deadline,omitempty"` // the watchdog ends the freeze then
	StartOwed bool         `json:"start_owed"`         // quiesce stopped the application and owes a start
	Phase     string       `json:"phase,omitempty"`    // a stop or start under way, or cut short
	Online    *onlineView  `json:"online,omitempty"`   // an online freeze: Domino serves in backup mode
	Watchdog  string       `json:"watchdog"`           // what happens at the deadline
	Note      string       `json:"note,omitempty"`
}

// onlineView is an online freeze: Domino Backup's snapshot mode.
type onlineView struct {
	BackupID  string     `json:"backup_id,omitempty"`  // Domino's BackupStartDT
	InMode    *time.Time `json:"in_mode,omitempty"`    // every database in backup mode since
	WindowEnd *time.Time `json:"window_end,omitempty"` // backup mode ends by then at the latest
}

type holderView struct {
	Caller string    `json:"caller"`
	Job    string    `json:"job,omitempty"`
	Since  time.Time `json:"since"`
	PID    int       `json:"pid"`
}

// targetView is one application in status --json.
type targetView struct {
	Name      string      `json:"name"`
	State     string      `json:"state"` // running, stopped, dead (leftover processes)
	Processes int         `json:"processes"`
	Serving   *bool       `json:"serving,omitempty"`
	Freeze    *freezeView `json:"freeze,omitempty"`
}

// freezeOf reads a target's freeze state without taking its lock (status
// changes nothing); nil when no freeze is in place or owed.
func (e *env) freezeOf(c *cli.Context, cfg config.File, target string) (*freezeView, error) {
	dir := e.stateDir(c, cfg)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	store, err := state.Open(dir)
	if err != nil {
		return nil, err
	}
	rec, err := store.Load(target)
	if err != nil || rec.Empty() {
		return nil, err
	}
	v := &freezeView{StartOwed: rec.StartOwed(), Phase: rec.Phase, Note: rec.Note}
	for _, h := range rec.Holders {
		v.Holders = append(v.Holders, holderView{Caller: h.Caller, Job: h.Job, Since: h.Since, PID: h.PID})
	}
	if !rec.StoppedAt.IsZero() {
		v.Since = &rec.StoppedAt
	} else if len(rec.Holders) > 0 {
		v.Since = &rec.Holders[0].Since
	}
	if !rec.Deadline.IsZero() {
		v.Deadline = &rec.Deadline
	}
	switch {
	case rec.Backup != nil:
		v.Online = &onlineView{BackupID: rec.Backup.ID}
		if !rec.Backup.InMode.IsZero() {
			v.Online.InMode = &rec.Backup.InMode
		}
		if !rec.Backup.Window.IsZero() {
			v.Online.WindowEnd = &rec.Backup.Window
		}
		v.Watchdog = "ends Domino's backup mode (Domino keeps serving throughout)"
	case rec.StartOwed():
		v.Watchdog = "starts " + target + " and ends the freeze"
	default:
		v.Watchdog = "ends the freeze (" + target + " was not running when it began: nothing to start)"
	}
	return v, nil
}

// sayFreeze prints a freeze in place, in words.
func (e *env) sayFreeze(target string, v *freezeView) {
	now := e.clock.Now()
	var who []string
	for _, h := range v.Holders {
		s := h.Caller
		if h.Job != "" {
			s += " (job " + h.Job + ")"
		}
		who = append(who, fmt.Sprintf("%s since %s", s, h.Since.Local().Format(time.DateTime)))
	}
	switch {
	case len(who) > 0 && v.Online != nil:
		e.say("%s is FROZEN ONLINE (in Domino Backup's snapshot mode %s, still serving) by %s", domino.TargetName, v.Online.BackupID, strings.Join(who, ", "))
	case len(who) > 0:
		e.say("%s is FROZEN by %s", target, strings.Join(who, ", "))
	case v.StartOwed:
		e.say("%s: no freeze holds it, but quiesce stopped it and owes a start", target)
	}
	if v.StartOwed && v.Since != nil {
		e.say("  quiesce stopped %s at %s (%s ago) and starts it at the last thaw", target, v.Since.Local().Format(time.DateTime), ago(now.Sub(*v.Since)))
	}
	if v.Phase == state.PhaseStopping || v.Phase == state.PhaseStarting || v.Phase == state.PhaseStartFailed {
		e.say("  a %s is under way or was cut short; 'quiesce recover' settles it", strings.TrimSuffix(strings.TrimSuffix(v.Phase, "ing"), "-failed"))
	}
	if v.Deadline != nil {
		e.say("  if no thaw comes, at %s (in %s) the watchdog %s", v.Deadline.Local().Format(time.DateTime), ago(v.Deadline.Sub(now)), v.Watchdog)
	}
	if v.Note != "" {
		e.say("  note: %s", v.Note)
	}
}

func ago(d time.Duration) string {
	if d < 0 {
		return "overdue"
	}
	return d.Round(time.Second).String()
}

// statusAction shows every application and any freeze in place; --json
// for scripts. Exit codes are LSB status codes, for Domino when it is
// configured, else for the [target]s together.
func (e *env) statusAction(c *cli.Context) error {
	if c.Bool("json") {
		return e.statusJSON(c)
	}
	err := e.statusText(c)
	if cfg, cerr := e.config(c); cerr == nil {
		for _, name := range targetNames(cfg) {
			if v, ferr := e.freezeOf(c, cfg, name); ferr != nil {
				e.say("%s: freeze state not readable: %v", name, ferr)
			} else if v != nil {
				e.sayFreeze(name, v)
			}
		}
	}
	return err
}

func targetNames(cfg config.File) []string {
	var out []string
	if cfg.HasDomino {
		out = append(out, domino.TargetName, online.TargetName)
	}
	for _, g := range cfg.Targets {
		out = append(out, g.Name)
	}
	return out
}

// statusJSON prints {"targets":[...]} and exits with the same code as the
// text status.
func (e *env) statusJSON(c *cli.Context) error {
	cfg, err := e.config(c)
	if err != nil {
		return &exitError{code: StatusUnknown, msg: message(e.prog, err)}
	}
	var views []targetView
	running, total := 0, 0
	code := StatusRunning
	if cfg.HasDomino {
		srv, err := e.target(c)
		if err != nil {
			return &exitError{code: StatusUnknown, msg: message(e.prog, err)}
		}
		st, err := srv.Status()
		if err != nil {
			return &exitError{code: StatusUnknown, msg: message(e.prog, err)}
		}
		v := targetView{Name: domino.TargetName, State: st.State.String(), Processes: len(st.Procs)}
		if st.State == domino.Running {
			serving := st.Serving
			v.Serving = &serving
		}
		code = map[domino.State]int{domino.Running: StatusRunning, domino.Stopped: StatusStopped, domino.Dead: StatusDead}[st.State]
		views = append(views, v)
	}
	for _, g := range cfg.Targets {
		t, err := generic.New(g, cfg.Source, e.source, e.log, e.clock)
		if err != nil {
			return &exitError{code: StatusUnknown, msg: message(e.prog, err)}
		}
		ps, err := t.Processes()
		if err != nil {
			return &exitError{code: StatusUnknown, msg: message(e.prog, err)}
		}
		v := targetView{Name: g.Name, State: "stopped", Processes: len(ps)}
		if len(ps) > 0 {
			v.State = "running"
			running++
		}
		total++
		views = append(views, v)
	}
	for i := range views {
		if views[i].Freeze, err = e.freezeOf(c, cfg, views[i].Name); err != nil {
			return &exitError{code: StatusUnknown, msg: message(e.prog, err)}
		}
		if views[i].Freeze == nil && cfg.HasDomino && i == 0 { // Domino may be frozen online instead
			if views[i].Freeze, err = e.freezeOf(c, cfg, online.TargetName); err != nil {
				return &exitError{code: StatusUnknown, msg: message(e.prog, err)}
			}
		}
	}
	if !cfg.HasDomino && running < total {
		code = StatusDead
		if running == 0 {
			code = StatusStopped
		}
	}
	b, _ := json.MarshalIndent(struct {
		Targets []targetView `json:"targets"`
	}{views}, "", "  ")
	fmt.Fprintln(e.io.out, string(b))
	if code != StatusRunning {
		return &exitError{code: code}
	}
	return nil
}
