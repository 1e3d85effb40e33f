// Package generic quiesces an application an administrator describes in a
// few lines of configuration: how it is managed (its own commands,
// systemd, a Windows service), which processes are its own, and how to
// know it serves. Stopping escalates to SIGTERM and SIGKILL for every
// process left after the graceful wait, as for Domino.
package generic

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/freeze/stopstart"
	"github.com/quiesce/quiesce/core/proc"
	"github.com/quiesce/quiesce/core/ready"
	"github.com/quiesce/quiesce/core/runas"
	"github.com/quiesce/quiesce/core/service"
)

// ErrStopFailed: processes survived SIGKILL.
var ErrStopFailed = errors.New("processes survived the stop")

// Target is one configured application.
type Target struct {
	cfg   config.Generic
	mgr   service.Manager
	acct  *runas.Account
	match proc.Matcher
	src   proc.Source
	log   *zap.Logger
	clock clock.Clock
}

var _ stopstart.Target = (*Target)(nil)

// New checks cfg against the system and returns the target.
func New(cfg config.Generic, file string, src proc.Source, log *zap.Logger, c clock.Clock) (*Target, error) {
	t := &Target{cfg: cfg, src: src, log: log.With(zap.String("target", cfg.Name)), clock: c}
	t.match = proc.Matcher{UID: -1, Prefixes: resolved(cfg.ProcessPaths), Names: cfg.ProcessNames}
	if cfg.User != "" {
		a, err := runas.Lookup(cfg.User)
		if err != nil {
			return nil, &config.Error{File: file, Line: cfg.Line, Key: "target " + cfg.Name + ".user", Msg: fmt.Sprintf("user %q does not exist", cfg.User)}
		}
		t.acct = &a
		t.match.SetOwner(a.UID, a.Name) // by UID, or by account on Windows
	}
	switch cfg.Manager {
	case config.ManagerSystemd:
		t.mgr = service.Systemd{Unit: cfg.Unit}
	case config.ManagerService:
		name := cfg.Service
		if name == "" {
			found, err := service.Discover(cfg.ProcessPaths, t.log)
			if err != nil || found == "" {
				return nil, &config.Error{File: file, Line: cfg.Line, Key: "target " + cfg.Name + ".service",
					Msg: fmt.Sprintf("no single Windows service runs a program under %v: name it", cfg.ProcessPaths)}
			}
			t.log.Info("service discovered", zap.String("service", found))
			name = found
		}
		t.mgr = service.NewWindowsService(name)
	default:
		t.mgr = service.Commands{Account: t.acct, StartArgs: cfg.Start, StopArgs: cfg.Stop}
	}
	return t, nil
}

// resolved adds each path's symlink-resolved form: /proc shows resolved
// executable paths (Debian's /usr/bin/redis-server is a link, say).
func resolved(paths []string) []string {
	var out []string
	for _, p := range paths {
		out = append(out, p)
		if r, err := filepath.EvalSymlinks(p); err == nil && r != p {
			out = append(out, r)
		}
	}
	return out
}

// Name is the target's name in the configuration.
func (t *Target) Name() string { return t.cfg.Name }

// Instance is the target as an application instance: what it names as
// its own, its systemd unit, its Windows service, or else the processes
// it matches (which its stop would end). Two configurations that describe
// it reach one freeze whatever they call it.
func (t *Target) Instance() freeze.Instance {
	var ident string
	switch t.cfg.Manager {
	case config.ManagerSystemd:
		ident = "unit " + t.cfg.Unit
	case config.ManagerService:
		ident = "service " + strings.ToLower(t.mgr.String())
	default:
		paths := append([]string(nil), resolved(t.cfg.ProcessPaths)...)
		names := append([]string(nil), t.cfg.ProcessNames...)
		sort.Strings(paths)
		sort.Strings(names)
		ident = "processes of " + t.cfg.User + " " + strings.Join(paths, ",") + " " + strings.Join(names, ",")
	}
	return freeze.Instance{Kind: "target", Ident: ident, Name: t.cfg.Name, Legacy: []string{t.cfg.Name}}
}

// Processes returns the application's processes now.
func (t *Target) Processes() ([]proc.Proc, error) { return t.src.Scan(t.match) }

// Running implements freeze.Target. No process found while the manager
// says the application runs is an error (service.UnseenError), never "not
// running".
func (t *Target) Running() (bool, error) {
	ps, err := t.Processes()
	if err != nil || len(ps) > 0 {
		return len(ps) > 0, err
	}
	return false, service.CheckUnseen(context.Background(), t.mgr)
}

// Timeouts implements stopstart.Target: the stop's steps and the start
// timeout.
func (t *Target) Timeouts() freeze.Timeouts {
	return freeze.Timeouts{Steps: t.steps(nil), Start: t.cfg.StartTimeout}
}

// steps are the stop's steps: the manager's stop and the graceful wait,
// then SIGTERM and SIGKILL (Windows: TerminateProcess, twice), each with
// its wait. st (nil for a plan) is the stop they run.
func (t *Target) steps(st *stopRun) []freeze.Step {
	out := []freeze.Step{{Name: "graceful", What: t.mgr.String() + " stop, wait for every process to exit", Limit: t.cfg.StopTimeout, Graceful: true}}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		out = append(out, freeze.Step{Name: sigName(sig), What: sigName(sig) + " to what is left, then wait", Limit: t.cfg.KillWait, Kills: true})
	}
	if st != nil {
		out[0].Do = st.graceful
		out[1].Do = func(ctx context.Context, d time.Time) (bool, error) { return st.signal(ctx, syscall.SIGTERM, d) }
		out[2].Do = func(ctx context.Context, d time.Time) (bool, error) { return st.signal(ctx, syscall.SIGKILL, d) }
	}
	return out
}

func sigName(sig syscall.Signal) string {
	if sig == syscall.SIGKILL {
		return "sigkill"
	}
	return "sigterm"
}

// stopRun is one stop under way.
type stopRun struct {
	t      *Target
	left   []proc.Proc
	killed []proc.Proc // what the graceful stop left, to be killed
}

func (st *stopRun) graceful(ctx context.Context, deadline time.Time) (bool, error) {
	t := st.t
	sctx, cancel := context.WithDeadline(ctx, deadline)
	if err := t.mgr.Stop(sctx); err != nil {
		t.log.Warn("stop request failed; waiting, then escalating", zap.Stringer("manager", t.mgr), zap.Error(err))
	}
	cancel()
	left, err := proc.WaitGone(ctx, t.src, t.match, deadline)
	st.left = left
	if err == nil && len(left) > 0 {
		st.killed = left
		t.log.Warn("graceful stop timed out, escalating", zap.Strings("left", proc.Names(left)))
	}
	return len(left) == 0, err
}

func (st *stopRun) signal(ctx context.Context, sig syscall.Signal, deadline time.Time) (bool, error) {
	t := st.t
	for _, p := range st.left {
		_ = proc.Signal(p, sig)
	}
	left, err := proc.WaitGone(ctx, t.src, t.match, deadline)
	st.left = left
	return len(left) == 0, err
}

// Stop implements stopstart.Target: its steps (the manager's stop and a
// wait up to graceful for every process to exit, then SIGTERM and
// SIGKILL) through freeze.Escalate.
func (t *Target) Stop(ctx context.Context, graceful time.Duration) (stopstart.StopReport, error) {
	began := t.clock.Now()
	found, err := t.Processes()
	if err == nil && len(found) == 0 {
		err = service.CheckUnseen(ctx, t.mgr)
	}
	if err != nil || len(found) == 0 {
		return stopstart.StopReport{Outcome: "not running"}, err
	}
	if t.acct != nil {
		if err := runas.CanActAs(*t.acct); err != nil {
			return stopstart.StopReport{}, err
		}
	}
	st := &stopRun{t: t, left: found}
	esc, err := freeze.Escalate(ctx, t.clock, t.steps(st), graceful)
	rep := stopstart.StopReport{Outcome: "clean", Ran: esc.Ran}
	if esc.Forced {
		rep.Forced, rep.Outcome, rep.Killed = true, "killed by signal", proc.Names(st.killed)
	}
	if err == nil && !esc.Gone {
		err = fmt.Errorf("%s: %d processes still alive after SIGKILL (%v): %w", t.cfg.Name, len(st.left), proc.Names(st.left), ErrStopFailed)
	}
	rep.Took = t.clock.Now().Sub(began)
	t.log.Info("stopped", zap.String("outcome", rep.Outcome), zap.Duration("took", rep.Took), zap.Error(err))
	return rep, err
}

// Start implements stopstart.Target: refused while any process exists; the
// manager's start, then the readiness probes up to the start timeout.
func (t *Target) Start(ctx context.Context) (stopstart.StartReport, error) {
	ps, err := t.Processes()
	if err != nil {
		return stopstart.StartReport{}, err
	}
	if len(ps) > 0 {
		return stopstart.StartReport{}, fmt.Errorf("%s: %d processes (%v): %w", t.cfg.Name, len(ps), proc.Names(ps), stopstart.ErrAlreadyRunning)
	}
	began := t.clock.Now()
	probes := t.probes()
	sctx, cancel := context.WithTimeout(ctx, t.cfg.StartTimeout)
	defer cancel()
	exited, err := t.mgr.Start(sctx)
	if err != nil {
		return stopstart.StartReport{}, err
	}
	if err := ready.Wait(ctx, probes, began.Add(t.cfg.StartTimeout), exited); err != nil {
		return stopstart.StartReport{}, fmt.Errorf("%s: %w", t.cfg.Name, err)
	}
	// The checks passed: the application's own processes must be there too
	// (a probe can pass for another reason, and the start may have failed).
	if ps, err := t.Processes(); err != nil || len(ps) == 0 {
		select { // the start command's own failure says more, if it is on its way
		case xerr := <-exited:
			return stopstart.StartReport{}, fmt.Errorf("%s: %w", t.cfg.Name, xerr)
		case <-time.After(time.Second):
		}
		return stopstart.StartReport{}, fmt.Errorf("%s: the readiness checks pass but no process of the application runs (check process_path and process_names)", t.cfg.Name)
	}
	rep := stopstart.StartReport{Ready: t.clock.Now().Sub(began)}
	t.log.Info("ready", zap.Duration("after", rep.Ready))
	return rep, nil
}

// probes builds the readiness checks; the log line is watched from now on.
func (t *Target) probes() []ready.Probe {
	var ps []ready.Probe
	for _, a := range t.cfg.ReadyTCP {
		ps = append(ps, ready.TCP{Addr: a})
	}
	for _, u := range t.cfg.ReadyHTTP {
		ps = append(ps, ready.HTTP{URL: u})
	}
	if t.cfg.ReadyLogFile != "" {
		ps = append(ps, ready.NewLogLine(t.cfg.ReadyLogFile, t.cfg.ReadyLogText, t.openLog))
	}
	if len(t.cfg.ReadyCommand) > 0 {
		ps = append(ps, ready.Command{Args: t.cfg.ReadyCommand, Make: t.commandMaker()})
	}
	return ps
}

// openLog opens the readiness log as the target's user when it has one
// (its log lives where that user writes), else as quiesce.
func (t *Target) openLog(path string) (*os.File, error) {
	if t.acct == nil {
		return os.Open(path)
	}
	return runas.OpenFile(*t.acct, path, os.O_RDONLY, 0)
}

// WaitReady implements freeze.Waiter: the readiness checks that do not
// depend on seeing the start (the log line may have passed) must pass.
func (t *Target) WaitReady(ctx context.Context) error {
	var probes []ready.Probe
	for _, p := range t.probes() {
		if _, isLog := p.(*ready.LogLine); !isLog {
			probes = append(probes, p)
		}
	}
	if len(probes) == 0 {
		return nil
	}
	return ready.Wait(ctx, probes, t.clock.Now().Add(t.cfg.StartTimeout), nil)
}
