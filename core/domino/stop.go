package domino

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/proc"
)

// Outcome says how a stop ended.
type Outcome int

// Outcomes, from best to worst.
const (
	NotRunning     Outcome = iota // nothing to stop
	Clean                         // every process exited after "server -q"
	KilledByNsd                   // the graceful wait timed out; nsd -kill ended it
	KilledBySignal                // SIGTERM or SIGKILL (Windows: TerminateProcess) was needed
)

func (o Outcome) String() string {
	return [...]string{"not running", "clean", "killed by nsd -kill", killedOutcome}[o]
}

// Forced reports whether the stop had to kill the server.
func (o Outcome) Forced() bool { return o >= KilledByNsd }

// Phase is one step of a stop and how long it took.
type Phase struct {
	Name     string
	Duration time.Duration
}

// StopResult describes a stop.
type StopResult struct {
	Outcome Outcome
	Found   []proc.Proc // processes found when the stop began
	Killed  []proc.Proc // processes left when escalation began
	Phases  []Phase
	Total   time.Duration
	Unit    string // the systemd unit the stop went through, if any
	Service string // the Windows service the stop went through, if any
}

// Stop shuts the server down: "server -q" as the Domino user (or the
// unit's or the Windows service's stop), an event-driven wait up to the
// shutdown timeout, then nsd -kill, SIGTERM and SIGKILL (Windows:
// TerminateProcess) to whatever is left, each followed by a bounded wait.
// The whole stop is bounded by the sum of its steps' limits (Steps).
func (s *Server) Stop(ctx context.Context) (StopResult, error) {
	return s.StopWithin(ctx, s.cfg.ShutdownTimeout)
}

// StopWithin is Stop with another graceful wait, so that a stop fits a
// caller's time budget. The stop runs its steps (Steps) through
// freeze.Escalate: what it may take is what the plan counts.
func (s *Server) StopWithin(ctx context.Context, graceful time.Duration) (StopResult, error) {
	start := s.clock.Now()
	found, err := s.Processes()
	if err != nil || len(found) == 0 {
		return StopResult{Outcome: NotRunning}, err
	}
	if err := s.canAct(); err != nil {
		return StopResult{Found: found}, err
	}
	st := &stopRun{s: s, res: StopResult{Found: found}, left: found}
	s.log.Info("stop requested", zap.Int("processes", len(found)), zap.Duration("graceful_wait", graceful))
	esc, err := freeze.Escalate(ctx, s.clock, s.steps(st), graceful)
	st.res.Total = s.clock.Now().Sub(start)
	for _, r := range esc.Ran {
		st.res.Phases = append(st.res.Phases, Phase{Name: r.Name, Duration: r.Took})
		s.log.Info("stop phase done", zap.String("phase", r.Name), zap.Duration("took", r.Took))
	}
	st.res.Outcome = outcomeOf(esc)
	if err == nil && !esc.Gone {
		err = &StopError{Waited: st.res.Total, Left: st.left, Result: st.res}
	}
	return st.res, err
}

// outcomeOf is how a stop ended, by the last step it took.
func outcomeOf(e freeze.Escalation) Outcome {
	switch {
	case !e.Forced:
		return Clean
	case e.Last.Name == stepNsdKill || e.Last.Name == stepNsd:
		return KilledByNsd
	}
	return KilledBySignal
}

// Step names, as the log's stop phases and check show them.
const (
	stepPreShutdown = "pre-shutdown"
	stepGraceful    = "graceful"
	stepNsd         = "nsd"
	stepNsdKill     = "nsd-kill"
)

// preShutdownTool bounds the pre-shutdown console command.
const preShutdownTool = time.Minute

// nsdTime bounds a full nsd before nsd -kill.
const nsdTime = 5 * time.Minute

// Steps are the stop's steps with their limits, as configured: the
// optional pre-shutdown command and its delay, the graceful stop (server
// -q, or the unit's or the Windows service's stop) and its wait, the
// optional full nsd, nsd -kill and its wait, and the signals (Windows:
// TerminateProcess) each with its wait.
func (s *Server) Steps() []freeze.Step { return s.steps(nil) }

// steps are the stop's steps; st (nil for a plan) is the stop they run.
func (s *Server) steps(st *stopRun) []freeze.Step {
	c := s.cfg
	var out []freeze.Step
	add := func(name, what string, limit time.Duration, graceful, kills bool, do func(*stopRun, context.Context, time.Time) (bool, error)) {
		step := freeze.Step{Name: name, What: what, Limit: limit, Graceful: graceful, Kills: kills}
		if st != nil {
			step.Do = func(ctx context.Context, deadline time.Time) (bool, error) { return do(st, ctx, deadline) }
		}
		out = append(out, step)
	}
	if c.PreShutdownCommand != "" {
		add(stepPreShutdown, fmt.Sprintf("console command %q, then %s", c.PreShutdownCommand, c.PreShutdownDelay),
			preShutdownTool+c.PreShutdownDelay, false, false, (*stopRun).preShutdown)
	}
	add(stepGraceful, s.gracefulWhat(), c.ShutdownTimeout, true, false, (*stopRun).graceful)
	if c.NsdBeforeKill {
		add(stepNsd, "full nsd (diagnostics) before the kill", nsdTime, false, false, (*stopRun).nsd)
	}
	add(stepNsdKill, "nsd -kill, then wait", 2*c.KillWait, false, true, (*stopRun).nsdKill)
	for _, sig := range killSignals {
		sig := sig
		add(sigName(sig), sigWhat(sig)+" to what is left, then wait", c.KillWait, false, true,
			func(st *stopRun, ctx context.Context, deadline time.Time) (bool, error) {
				return st.signal(ctx, sig, deadline)
			})
	}
	return out
}

// gracefulWhat says how the graceful stop is asked for.
func (s *Server) gracefulWhat() string {
	switch {
	case s.svc != nil:
		return "stop the Windows service " + s.cfg.Service + ", wait for every process to exit"
	case s.cfg.Manager == config.ManagerSystemd:
		return "systemctl stop " + s.cfg.Unit + ", wait for every process to exit"
	}
	return "server -q, wait for every process to exit"
}

type stopRun struct {
	s    *Server
	res  StopResult
	left []proc.Proc // what the last look found
}

func (st *stopRun) preShutdown(ctx context.Context, deadline time.Time) (bool, error) {
	s := st.s
	tool := min(preShutdownTool, time.Until(deadline))
	if err := s.runTool(ctx, tool, launcher(s.cfg.Lotus), "-c", s.cfg.PreShutdownCommand); err != nil {
		s.log.Warn("pre-shutdown command failed", zap.String("command", s.cfg.PreShutdownCommand), zap.Error(err))
	}
	if d := min(s.cfg.PreShutdownDelay, time.Until(deadline)); d > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	return st.look()
}

// look finds what is left of the server now.
func (st *stopRun) look() (bool, error) {
	left, err := st.s.waitGone(context.Background(), st.left, time.Time{})
	st.left = left
	return len(left) == 0, err
}

// graceful asks the server to shut down and waits until the deadline.
func (st *stopRun) graceful(ctx context.Context, deadline time.Time) (bool, error) {
	s := st.s
	var unitDone <-chan error
	if s.svc != nil {
		// Through the service control manager, which then sees its
		// service stop rather than die.
		st.res.Service = s.cfg.Service
		s.log.Info("stopping through the service control manager")
		sctx, cancel := context.WithDeadline(ctx, deadline)
		defer cancel()
		unitDone = s.stopService(sctx)
	} else if unit := s.unit(st.res.Found); unit != "" {
		// Through systemd, so that it does not see its service die.
		st.res.Unit = unit
		s.log.Info("stopping through systemd", zap.String("unit", unit))
		uctx, cancel := context.WithDeadline(ctx, deadline)
		defer cancel()
		unitDone = s.unitCommand(uctx, "stop", unit)
	} else if err := s.startTool(launcher(s.cfg.Lotus), "-q"); err != nil {
		s.log.Error("cannot run server -q", zap.Error(err))
	}
	left, err := s.waitGone(ctx, st.left, deadline)
	if unitDone != nil && len(left) == 0 && err == nil {
		<-unitDone // let the unit's stop job finish: the unit (service) is inactive when the stop returns
	}
	st.left = left
	if len(left) > 0 && err == nil {
		st.res.Killed = left
		s.log.Warn("graceful shutdown timed out, escalating", zap.Strings("left", proc.Names(left)))
	}
	return len(left) == 0, err
}

// nsd runs a full diagnostic nsd before the kill.
func (st *stopRun) nsd(ctx context.Context, deadline time.Time) (bool, error) {
	s := st.s
	if err := s.runTool(ctx, time.Until(deadline), nsdTool(s.cfg.Lotus)); err != nil {
		s.log.Warn("nsd before kill failed", zap.Error(err))
	}
	return st.look()
}

// nsdKill runs the application's own kill tool, then waits until the
// deadline for what is left to exit.
func (st *stopRun) nsdKill(ctx context.Context, deadline time.Time) (bool, error) {
	s := st.s
	wait := deadline
	if err := s.runTool(ctx, s.cfg.KillWait, nsdTool(s.cfg.Lotus), "-kill"); err != nil {
		s.log.Warn("nsd -kill failed, going on with signals", zap.Error(err))
		wait = time.Time{} // nothing to wait for: check once and escalate
	}
	left, err := s.waitGone(ctx, st.left, wait)
	st.left = left
	return len(left) == 0, err
}

// signal sends sig to every remaining process and waits until the
// deadline.
func (st *stopRun) signal(ctx context.Context, sig syscall.Signal, deadline time.Time) (bool, error) {
	s := st.s
	for _, p := range st.left {
		if err := proc.Signal(p, sig); err != nil {
			s.log.Warn("signal failed", zap.Stringer("process", p), zap.Stringer("signal", sig), zap.Error(err))
		}
	}
	left, err := s.waitGone(ctx, st.left, deadline)
	st.left = left
	return len(left) == 0, err
}

// waitGone waits, from procs (what the last scan found), until no process
// of the server is left or the deadline passes, and returns what is left.
func (s *Server) waitGone(ctx context.Context, procs []proc.Proc, deadline time.Time) ([]proc.Proc, error) {
	return proc.WaitGoneFrom(ctx, s.src, s.match, procs, deadline)
}

// runTool runs a tool and waits for it, up to limit.
func (s *Server) runTool(ctx context.Context, limit time.Duration, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := s.command(name, args...)
	if out := s.outputTo(cmd); out != nil {
		defer out.Close()
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		return ctx.Err()
	}
}

// startTool starts a tool in the background, its output to the server's
// output log, and reaps it when it ends.
func (s *Server) startTool(name string, args ...string) error {
	cmd := s.command(name, args...)
	out := s.outputTo(cmd)
	if err := cmd.Start(); err != nil {
		if out != nil {
			out.Close()
		}
		return err
	}
	go func() {
		if out != nil {
			defer out.Close()
		}
		if err := cmd.Wait(); err != nil {
			s.log.Warn("tool ended with an error", zap.String("tool", name), zap.Strings("args", args), zap.Error(err))
		}
	}()
	return nil
}
