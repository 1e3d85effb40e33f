package domino

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/ready"
)

// ReadyLine is the console line that says the server is up.
const ReadyLine = "Server started on physical node"

// consoleLog is the server's console log, relative to the data directory.
const consoleLog = "IBM_TECHNICAL_SUPPORT/console.log"

// StartResult describes a start.
type StartResult struct {
	PID     int           // the launched server process (0 when systemd launched it)
	Unit    string        // the systemd unit that started it, if any
	Service string        // the Windows service that started it, if any
	Ready   time.Duration // from launch to proven readiness
	Addr    string        // NRPC address that accepted a connection
}

// Start launches the server as the Domino user, detached from quiesce (or
// starts its unit or Windows service), and waits until it is ready: the console says "Server started on
// physical node" and the NRPC port accepts a connection.
func (s *Server) Start(ctx context.Context) (StartResult, error) {
	if s.Disabled() {
		return StartResult{}, fmt.Errorf("%s exists: %w (remove the file to allow starts)", filepath.Join(s.cfg.Data, DisabledFile), ErrDisabled)
	}
	procs, err := s.Processes()
	if err != nil {
		return StartResult{}, err
	}
	if len(procs) > 0 {
		return StartResult{}, &AlreadyRunningError{Procs: procs}
	}
	if err := s.canAct(); err != nil {
		return StartResult{}, err
	}
	console := ready.NewLogLine(filepath.Join(s.cfg.Data, consoleLog), ReadyLine, s.openUserFile)
	launched := s.clock.Now()
	res := StartResult{Addr: s.nrpcAddr()}
	var died <-chan error
	var unitDone <-chan struct{}
	if s.svc != nil {
		res.Service = s.cfg.Service
		sctx, cancel := context.WithTimeout(ctx, s.cfg.StartTimeout)
		defer cancel()
		died, unitDone = s.startService(sctx)
	} else if unit := s.unit(nil); unit != "" {
		res.Unit = unit
		var exited <-chan int
		exited, unitDone = s.startUnit(ctx, unit)
		died = s.startErrors(ctx, exited)
	} else {
		cmd, ex, err := s.launch()
		if err != nil {
			return StartResult{}, err
		}
		res.PID, died = cmd.Process.Pid, s.startErrors(ctx, ex)
	}
	s.log.Info("server launched", zap.Int("server_pid", res.PID), zap.String("unit", res.Unit))
	if err := s.waitReady(ctx, launched, console, died, res.Addr); err != nil {
		s.log.Error("start failed", zap.Error(err))
		return res, err
	}
	if unitDone != nil {
		<-unitDone // the unit's start job is done (the service runs): active when Start returns
	}
	if s.svc != nil {
		select {
		case err := <-died: // the service control manager failed the start after all
			return res, err
		default:
		}
	}
	res.Ready = s.clock.Now().Sub(launched)
	s.log.Info("server ready", zap.Duration("after", res.Ready), zap.String("nrpc", res.Addr))
	return res, nil
}

// startUnit starts the server's systemd unit; a failed start job is
// reported like a server that exited during start-up. done is closed when
// systemctl has returned.
func (s *Server) startUnit(ctx context.Context, unit string) (exited <-chan int, done <-chan struct{}) {
	ex, fin := make(chan int, 1), make(chan struct{})
	uctx, cancel := context.WithTimeout(ctx, s.cfg.StartTimeout)
	result := s.unitCommand(uctx, "start", unit)
	go func() {
		defer cancel()
		defer close(fin)
		if err := <-result; err != nil {
			ex <- 1
		}
	}()
	return ex, fin
}

// launch starts LOTUS/bin/server in a session of its own, input from the
// configured input file, output appended to the output log.
func (s *Server) launch() (*exec.Cmd, <-chan int, error) {
	cmd := s.command(launcher(s.cfg.Lotus))
	if out := s.outputTo(cmd); out != nil {
		defer out.Close()
	}
	if in := s.openInput(); in != nil {
		defer in.Close()
		cmd.Stdin = in
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("cannot launch %s: %w", launcher(s.cfg.Lotus), err)
	}
	exited := make(chan int, 1)
	go func() {
		_ = cmd.Wait()
		exited <- cmd.ProcessState.ExitCode()
	}()
	return cmd, exited, nil
}

// waitReady waits for the console line and the NRPC port, and turns the
// outcome into the engine's typed errors.
func (s *Server) waitReady(ctx context.Context, launched time.Time, console *ready.LogLine, died <-chan error, addr string) error {
	port := ready.TCP{Addr: addr}
	err := ready.Wait(ctx, []ready.Probe{console, port}, launched.Add(s.cfg.StartTimeout), died)
	var nr *ready.NotReadyError
	if errors.As(err, &nr) {
		return &NotReadyError{Waited: s.clock.Now().Sub(launched), ConsoleSeen: console.Ready(ctx), Addr: addr, PortOpen: port.Ready(ctx)}
	}
	return err
}

// startErrors turns the exit of what was launched into a StartError.
func (s *Server) startErrors(ctx context.Context, exited <-chan int) <-chan error {
	died := make(chan error, 1)
	go func() {
		select {
		case code := <-exited:
			died <- &StartError{ExitCode: code, Tail: s.tail(s.cfg.OutputLog, 5), Log: s.cfg.OutputLog}
		case <-ctx.Done():
		}
	}()
	return died
}

// tailLimit is how much of the end of a log tail reads.
const tailLimit = 64 << 10

// tail returns the last n lines of a log the Domino user writes, read as
// that user.
func (s *Server) tail(path string, n int) []string {
	f, err := s.openUserFile(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > tailLimit {
		_, _ = f.Seek(-tailLimit, io.SeekEnd)
	}
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); t != "" {
			lines = append(lines, t)
		}
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return lines
}

// IsStartFailure reports whether err is one of the start failures.
func IsStartFailure(err error) bool {
	return errors.Is(err, ErrStartFailed) || errors.Is(err, ErrNotReady)
}
