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
	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/engine"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/freeze/stopstart"
	"github.com/quiesce/quiesce/core/generic"
	"github.com/quiesce/quiesce/core/online"
	"github.com/quiesce/quiesce/core/state"
)

// freezeView is what status shows of one instance's freeze state.
type freezeView struct {
	Instance  string       `json:"instance"` // the instance's key in the state directory
	Method    string       `json:"method,omitempty"`
	Holders   []holderView `json:"holders"`
	Since     *time.Time   `json:"since,omitempty"`    // the freeze began (quiesce stopped the application then)
	Deadline  *time.Time   `json:"deadline,omitempty"` // the watchdog ends the freeze then
	StartOwed bool         `json:"start_owed"`         // quiesce stopped the application and owes a start
	Phase     string       `json:"phase,omitempty"`    // a stop or start under way, or cut short
	Online    *onlineView  `json:"online,omitempty"`   // an online freeze: Domino serves in backup mode
	Database  *dbFreeze    `json:"database,omitempty"` // a database server's online freeze (status_db.go)
	Cluster   *clusterView `json:"cluster,omitempty"`  // a Domino server in a cluster: its lock or record in etcd (status_cluster.go)
	Watchdog  string       `json:"watchdog"`           // what happens at the deadline
	Guarded   bool         `json:"watchdog_running"`   // a watchdog guards the freeze now
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

// freezeOf reads an instance's freeze state without taking its lock
// (status changes nothing but a missing watchdog, which it starts again);
// nil when no freeze is in place or owed.
func (e *env) freezeOf(c *cli.Context, s *freeze.Session) (*freezeView, error) {
	rec, err := s.Record()
	if err != nil || rec.Empty() {
		return nil, err
	}
	name := s.Instance().Name
	v := &freezeView{Instance: s.Key(), Method: rec.Method, StartOwed: rec.Owed && rec.Method == stopstart.Name, Phase: rec.Phase, Note: rec.Note}
	for _, h := range rec.Holders {
		v.Holders = append(v.Holders, holderView{Caller: h.Caller, Job: h.Job, Since: h.Since, PID: h.PID})
	}
	if !rec.Since.IsZero() {
		v.Since = &rec.Since
	}
	if !rec.Deadline.IsZero() {
		v.Deadline = &rec.Deadline
	}
	if id, inMode, end, ok := online.Backup(rec); ok {
		v.Online = &onlineView{BackupID: id}
		if !inMode.IsZero() {
			v.Online.InMode = &inMode
		}
		if !end.IsZero() {
			v.Online.WindowEnd = &end
		}
		v.Watchdog = "ends Domino's backup mode (Domino keeps serving throughout)"
	} else if db := dbView(s, rec); db != nil {
		v.Database, v.Watchdog = db, db.Watchdog
	} else if rec.Owed {
		v.Watchdog = "starts " + name + " and ends the freeze"
	} else {
		v.Watchdog = "ends the freeze (" + name + " was not running when it began: nothing to start)"
	}
	v.Cluster = clusterStatus(s)
	v.Guarded, _ = s.Guarded()
	if !v.Guarded {
		if armed, err := s.Rearm(c.Context); err != nil {
			e.log.Warn("cannot start a watchdog for the freeze in place", zap.String("instance", name), zap.Error(err))
		} else if armed {
			v.Guarded, v.Note = true, strings.TrimPrefix(v.Note+"; no watchdog guarded this freeze: one was started now", "; ")
		}
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
	case len(who) > 0 && v.Database != nil:
		e.say("%s is FROZEN ONLINE (%s, still serving) by %s", target, v.Database.Held, strings.Join(who, ", "))
	case len(who) > 0 && v.Online != nil:
		e.say("%s is FROZEN ONLINE (in Domino Backup's snapshot mode %s, still serving) by %s", target, v.Online.BackupID, strings.Join(who, ", "))
	case len(who) > 0:
		e.say("%s is FROZEN by %s", target, strings.Join(who, ", "))
	case v.StartOwed:
		e.say("%s: no freeze holds it, but quiesce stopped it and owes a start", target)
	}
	if v.StartOwed && v.Since != nil {
		e.say("  quiesce stopped %s at %s (%s ago) and starts it at the last thaw", target, v.Since.Local().Format(time.DateTime), ago(now.Sub(*v.Since)))
	}
	switch v.Phase {
	case state.PhaseEntering, state.PhaseLeaving, state.PhaseLeaveFailed:
		e.say("  %s; 'quiesce recover' settles it", phaseWords(v))
	}
	switch {
	case v.Deadline != nil && v.Guarded:
		e.say("  if no thaw comes, at %s (in %s) the watchdog %s", v.Deadline.Local().Format(time.DateTime), ago(v.Deadline.Sub(now)), v.Watchdog)
	case v.Deadline != nil:
		e.say("  NO WATCHDOG guards it (it could not be started: see the log); if no thaw comes, the next quiesce run after %s %s", v.Deadline.Local().Format(time.DateTime), v.Watchdog)
	}
	if v.Cluster != nil {
		e.say("  %s", v.Cluster.words())
	}
	if v.Note != "" {
		e.say("  note: %s", v.Note)
	}
}

// phaseWords says what a freeze under way, or cut short, is doing.
func phaseWords(v *freezeView) string {
	what := map[string]string{state.PhaseEntering: "a stop", state.PhaseLeaving: "a start", state.PhaseLeaveFailed: "a start that failed"}[v.Phase]
	if v.Database != nil {
		what = map[string]string{state.PhaseEntering: "taking the database lock", state.PhaseLeaving: "releasing the database lock"}[v.Phase]
	}
	if v.Online != nil {
		what = map[string]string{state.PhaseEntering: "entering backup mode", state.PhaseLeaving: "ending backup mode"}[v.Phase]
	}
	return what + " is under way or was cut short"
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
	if eng, eerr := e.engine(c); eerr == nil {
		ss, serr := e.statusSessions(eng)
		for _, s := range ss {
			if v, ferr := e.freezeOf(c, s); ferr != nil {
				e.say("%s: freeze state not readable: %v", s.Instance().Name, ferr)
			} else if v != nil {
				e.sayFreeze(s.Instance().Name, v)
			}
		}
		if serr != nil {
			e.say("freeze state not readable: %v", serr)
		}
	}
	if e.logProblem != "" {
		e.say("log: %s", e.logProblem)
	}
	return err
}

// statusSessions are the sessions whose freeze state status shows; none
// when there is no state directory yet (status creates nothing).
func (e *env) statusSessions(eng *engine.Engine) ([]*freeze.Session, error) {
	if _, err := os.Stat(eng.StateDir()); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return eng.Sessions()
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
	eng, err := e.engine(c)
	if err != nil {
		return &exitError{code: StatusUnknown, msg: message(e.prog, err)}
	}
	ss, err := e.statusSessions(eng)
	if err != nil {
		return &exitError{code: StatusUnknown, msg: message(e.prog, err)}
	}
	for i, s := range ss {
		if views[i].Freeze, err = e.freezeOf(c, s); err != nil {
			return &exitError{code: StatusUnknown, msg: message(e.prog, err)}
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
