package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/generic"
	"github.com/quiesce/quiesce/core/proc"
)

func serviceCommands(e *env) []*cli.Command {
	return []*cli.Command{
		{Name: "start", Usage: "start the server and wait until it is serving", Action: e.startAction},
		{Name: "stop", Usage: stopUsage(), Action: e.stopAction},
		{Name: "restart", Usage: "stop, then start", Action: e.restartAction},
		{Name: "status", Usage: "show the applications and any freeze in place; exit 0 when running, 3 when stopped, 1 when only leftover processes remain", Action: e.statusAction,
			Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the state as JSON (targets, processes, freeze holders, deadline) for scripts"}}},
	}
}

func (e *env) startAction(c *cli.Context) error {
	srv, err := e.target(c)
	if err != nil {
		return err
	}
	disown := e.byHand(c)
	err = e.start(c, srv)
	if err == nil {
		disown("started by hand")
	}
	return err
}

// byHand settles any interrupted or expired freeze and returns what ends
// quiesce's ownership of the application: what an administrator does by
// hand overrides a freeze, and no thaw or watchdog undoes it. A stop ends
// the ownership before it stops; a start only once the application runs,
// so that a start killed or failed half-way leaves the start a freeze owes
// to the thaw or the watchdog.
func (e *env) byHand(c *cli.Context) (disown func(why string)) {
	if srv, err := e.target(c); err == nil && srv.InUnit() {
		return func(string) {} // run by the Domino unit itself, on a freeze's or an administrator's systemctl
	}
	eng, err := e.engine(c)
	var f *freeze.Session
	if err == nil {
		f, err = eng.DominoSession()
	}
	if err != nil || f == nil {
		e.log.Warn("freeze state not available", zap.Error(err))
		return func(string) {}
	}
	if _, err := f.Recover(c.Context, false); err != nil {
		e.log.Warn("recovery before acting by hand", zap.Error(err))
	}
	return func(why string) {
		if err := f.Disown(c.Context, why); err != nil {
			e.log.Warn("cannot update the freeze state", zap.Error(err))
		}
	}
}

func (e *env) start(c *cli.Context, srv *domino.Server) error {
	res, err := srv.Start(c.Context)
	var running *domino.AlreadyRunningError
	if errors.As(err, &running) {
		return e.alreadyRunning(srv, running)
	}
	if err != nil {
		return &actionError{err}
	}
	e.say("Domino started in %s: NRPC %s accepting (PID %d)", secs(res.Ready), res.Addr, res.PID)
	return nil
}

// alreadyRunning: a start of a running server changes nothing and succeeds
// (LSB); leftover task processes without the server block it and fail.
func (e *env) alreadyRunning(srv *domino.Server, err *domino.AlreadyRunningError) error {
	st, serr := srv.Status()
	if serr == nil && st.State == domino.Running {
		e.say("Domino is already running (%d processes); not starting a second server", len(st.Procs))
		return nil
	}
	return &actionError{fmt.Errorf("%w; leftover processes without the main server: run '%s stop' to clean up", err, e.prog)}
}

func (e *env) stopAction(c *cli.Context) error {
	srv, err := e.target(c)
	if err != nil {
		return err
	}
	e.byHand(c)("stopped by hand")
	return e.stop(c, srv)
}

func (e *env) stop(c *cli.Context, srv *domino.Server) error {
	res, err := srv.Stop(c.Context)
	e.log.Info("stop result", zap.String("outcome", res.Outcome.String()), zap.Duration("total", res.Total),
		zap.Int("found", len(res.Found)), zap.Strings("killed", proc.Names(res.Killed)), zap.Array("phases", phaseList(res.Phases)))
	if err != nil {
		return &actionError{err}
	}
	switch res.Outcome {
	case domino.NotRunning:
		e.say("Domino is not running")
	case domino.Clean:
		e.say("Domino stopped cleanly in %s (%d processes)", secs(res.Total), len(res.Found))
	default:
		return &exitError{code: ExitForcedStop, msg: fmt.Sprintf(
			"%s: warning: Domino did not stop within %s and was %s after %s; processes killed: %s (databases may need fixup)",
			e.prog, srv.Config().ShutdownTimeout, res.Outcome, secs(res.Total), strings.Join(proc.Names(res.Killed), ", "))}
	}
	return nil
}

func (e *env) restartAction(c *cli.Context) error {
	srv, err := e.target(c)
	if err != nil {
		return err
	}
	disown := e.byHand(c)
	stopErr := e.stop(c, srv)
	if exitCode(stopErr) != ExitOK && exitCode(stopErr) != ExitForcedStop {
		return stopErr
	}
	if stopErr != nil {
		fmt.Fprintln(e.io.err, message(e.prog, stopErr))
	}
	if err := e.start(c, srv); err != nil {
		return err
	}
	disown("restarted by hand")
	if stopErr != nil {
		return &exitError{code: ExitForcedStop} // already reported
	}
	return nil
}

// statusText prints the applications' state (statusAction adds freezes).
func (e *env) statusText(c *cli.Context) error {
	cfg, err := e.config(c)
	if err != nil {
		return &exitError{code: StatusUnknown, msg: message(e.prog, err)}
	}
	defer e.sayStartNotes(c)
	running, total, err := e.targetsStatus(c, cfg)
	if err != nil {
		return &exitError{code: StatusUnknown, msg: message(e.prog, err)}
	}
	if !cfg.HasDomino {
		switch running {
		case total:
			return nil
		case 0:
			return &exitError{code: StatusStopped}
		}
		return &exitError{code: StatusDead} // some of them stopped
	}
	return e.dominoStatus(c)
}

// targetsStatus prints one line per [target] and counts those running.
func (e *env) targetsStatus(c *cli.Context, cfg config.File) (running, total int, err error) {
	for _, g := range cfg.Targets {
		t, err := generic.New(g, cfg.Source, e.source, e.log, e.clock)
		if err != nil {
			return 0, 0, err
		}
		ps, err := t.Processes()
		if err != nil {
			return 0, 0, err
		}
		if len(ps) == 0 {
			e.say("%s is stopped", g.Name)
			continue
		}
		running++
		e.say("%s is running: %d processes (%s)", g.Name, len(ps), strings.Join(proc.Names(ps), ", "))
	}
	return running, len(cfg.Targets), nil
}

func (e *env) dominoStatus(c *cli.Context) error {
	srv, err := e.target(c)
	if err != nil {
		if exitCode(err) == ExitNotConfigured || exitCode(err) == ExitNotInstalled {
			return &exitError{code: StatusUnknown, msg: message(e.prog, err)}
		}
		return err
	}
	st, err := srv.Status()
	if err != nil {
		return &exitError{code: StatusUnknown, msg: message(e.prog, err)}
	}
	switch st.State {
	case domino.Stopped:
		e.say("Domino is stopped")
		return &exitError{code: StatusStopped}
	case domino.Dead:
		e.say("Domino is dead: the server process is gone but %d task processes are left (run '%s stop' to clean up)", len(st.Procs), e.prog)
		e.listProcs(st.Procs)
		return &exitError{code: StatusDead}
	}
	serving := "accepting"
	if !st.Serving {
		serving = "NOT accepting"
	}
	via := ""
	if st.Unit != "" {
		via = " (systemd unit " + st.Unit + ")"
	}
	if st.Service != "" {
		via = " (Windows service " + st.Service + ")"
	}
	e.say("Domino is running%s: %d processes, NRPC %s %s", via, len(st.Procs), st.Addr, serving)
	e.listProcs(st.Procs)
	return nil
}

func (e *env) listProcs(procs []proc.Proc) {
	for _, p := range procs {
		e.say("  %-10s pid %-7d started %s", p.Name, p.PID, p.StartTime().Format(time.DateTime))
	}
}

func (e *env) say(format string, a ...any) {
	fmt.Fprintf(e.io.out, format+"\n", a...)
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }
