package domino

import (
	"context"
	"syscall"
	"time"

	"go.uber.org/zap"

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
// TerminateProcess) to whatever is left, each followed by a bounded wait. The whole
// stop is bounded by ShutdownTimeout + PreShutdownDelay + 3 x KillWait plus
// the time the tools take to start.
func (s *Server) Stop(ctx context.Context) (StopResult, error) {
	return s.StopWithin(ctx, s.cfg.ShutdownTimeout)
}

// StopWithin is Stop with another graceful wait, so that a stop fits a
// caller's time budget.
func (s *Server) StopWithin(ctx context.Context, graceful time.Duration) (StopResult, error) {
	start := s.clock.Now()
	found, err := s.Processes()
	if err != nil || len(found) == 0 {
		return StopResult{Outcome: NotRunning}, err
	}
	if err := s.canAct(); err != nil {
		return StopResult{Found: found}, err
	}
	st := &stopRun{s: s, res: StopResult{Found: found}, start: start, graceWait: graceful}
	s.log.Info("stop requested", zap.Int("processes", len(found)), zap.Duration("graceful_wait", graceful))
	err = st.run(ctx)
	st.res.Total = s.clock.Now().Sub(start)
	return st.res, err
}

type stopRun struct {
	s         *Server
	res       StopResult
	start     time.Time
	mark      time.Time
	graceWait time.Duration
}

func (st *stopRun) run(ctx context.Context) error {
	s := st.s
	st.mark = st.start
	st.preShutdown(ctx)
	left, err := st.graceful(ctx)
	if err != nil || len(left) == 0 {
		st.res.Outcome = Clean
		return err
	}
	st.res.Killed = left
	s.log.Warn("graceful shutdown timed out, escalating", zap.Strings("left", proc.Names(left)))
	if left, err = st.nsdKill(ctx); err != nil || len(left) == 0 {
		st.res.Outcome = KilledByNsd
		return err
	}
	st.res.Outcome = KilledBySignal
	for _, sig := range killSignals {
		if left, err = st.signal(ctx, sig, left); err != nil || len(left) == 0 {
			return err
		}
	}
	return &StopError{Waited: s.clock.Now().Sub(st.start), Left: left, Result: st.res}
}

// phase records the time since the previous phase ended.
func (st *stopRun) phase(name string) {
	now := st.s.clock.Now()
	st.res.Phases = append(st.res.Phases, Phase{Name: name, Duration: now.Sub(st.mark)})
	st.s.log.Info("stop phase done", zap.String("phase", name), zap.Duration("took", now.Sub(st.mark)))
	st.mark = now
}

func (st *stopRun) preShutdown(ctx context.Context) {
	s := st.s
	if s.cfg.PreShutdownCommand == "" {
		return
	}
	if err := s.runTool(ctx, time.Minute, launcher(s.cfg.Lotus), "-c", s.cfg.PreShutdownCommand); err != nil {
		s.log.Warn("pre-shutdown command failed", zap.String("command", s.cfg.PreShutdownCommand), zap.Error(err))
	}
	if s.cfg.PreShutdownDelay > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(s.cfg.PreShutdownDelay):
		}
	}
	st.phase("pre-shutdown")
}

// graceful asks the server to shut down and waits up to the timeout.
func (st *stopRun) graceful(ctx context.Context) ([]proc.Proc, error) {
	s := st.s
	deadline := st.start.Add(s.cfg.PreShutdownDelay + st.graceWait)
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
	left, err := s.waitGone(ctx, st.res.Found, deadline)
	if unitDone != nil && len(left) == 0 && err == nil {
		<-unitDone // let the unit's stop job finish: the unit (service) is inactive when the stop returns
	}
	st.phase("graceful")
	return left, err
}

// nsdKill runs the application's own kill tool, optionally after a full
// diagnostic nsd, and waits up to KillWait.
func (st *stopRun) nsdKill(ctx context.Context) ([]proc.Proc, error) {
	s := st.s
	if s.cfg.NsdBeforeKill {
		if err := s.runTool(ctx, 5*time.Minute, nsdTool(s.cfg.Lotus)); err != nil {
			s.log.Warn("nsd before kill failed", zap.Error(err))
		}
	}
	wait := s.cfg.KillWait
	if err := s.runTool(ctx, s.cfg.KillWait, nsdTool(s.cfg.Lotus), "-kill"); err != nil {
		s.log.Warn("nsd -kill failed, going on with signals", zap.Error(err))
		wait = 0 // nothing to wait for: check once and escalate
	}
	left, err := s.waitGone(ctx, st.res.Killed, s.clock.Now().Add(wait))
	st.phase("nsd-kill")
	return left, err
}

// signal sends sig to every remaining process and waits up to KillWait.
func (st *stopRun) signal(ctx context.Context, sig syscall.Signal, procs []proc.Proc) ([]proc.Proc, error) {
	s := st.s
	for _, p := range procs {
		if err := proc.Signal(p, sig); err != nil {
			s.log.Warn("signal failed", zap.Stringer("process", p), zap.Stringer("signal", sig), zap.Error(err))
		}
	}
	left, err := s.waitGone(ctx, procs, s.clock.Now().Add(s.cfg.KillWait))
	st.phase(sigName(sig))
	return left, err
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
