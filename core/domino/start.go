package domino

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"
)

// ReadyLine is the console line that says the server is up.
const ReadyLine = "Server started on physical node"

// consoleLog is the server's console log, relative to the data directory.
const consoleLog = "IBM_TECHNICAL_SUPPORT/console.log"

// readyPoll is how often readiness is checked: files and a TCP connect.
const readyPoll = 20 * time.Millisecond

// StartResult describes a start.
type StartResult struct {
	PID   int           // the launched server process
	Ready time.Duration // from launch to proven readiness
	Addr  string        // NRPC address that accepted a connection
}

// Start launches the server as the Domino user, detached from quiesce,
// and waits until it is ready: the console says "Server started on
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
	watch := newConsoleWatch(filepath.Join(s.cfg.Data, consoleLog))
	launched := s.clock.Now()
	cmd, exited, err := s.launch()
	if err != nil {
		return StartResult{}, err
	}
	s.log.Info("server launched", zap.Int("pid", cmd.Process.Pid))
	res := StartResult{PID: cmd.Process.Pid, Addr: s.nrpcAddr()}
	if err := s.waitReady(ctx, launched, watch, exited, res.Addr); err != nil {
		s.log.Error("start failed", zap.Error(err))
		return res, err
	}
	res.Ready = s.clock.Now().Sub(launched)
	s.log.Info("server ready", zap.Duration("after", res.Ready), zap.String("nrpc", res.Addr))
	return res, nil
}

// launch starts LOTUS/bin/server in a session of its own, input from the
// configured input file, output appended to the output log.
func (s *Server) launch() (*exec.Cmd, <-chan int, error) {
	cmd := s.command(launcher(s.cfg.Lotus))
	out, err := s.outputTo(cmd)
	if err != nil {
		return nil, nil, fmt.Errorf("output log: %w", err)
	}
	defer out.Close()
	if in, err := os.Open(s.cfg.InputFile); err == nil {
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

func (s *Server) waitReady(ctx context.Context, launched time.Time, watch *consoleWatch, exited <-chan int, addr string) error {
	deadline := launched.Add(s.cfg.StartTimeout)
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	portUp := false
	for {
		select {
		case code := <-exited:
			return &StartError{ExitCode: code, Tail: tail(s.cfg.OutputLog, 5), Log: s.cfg.OutputLog}
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		seen := watch.seen(ReadyLine)
		if seen && !portUp {
			portUp = portOpen(addr)
		}
		if seen && portUp {
			return nil
		}
		if !s.clock.Now().Before(deadline) {
			return &NotReadyError{Waited: s.clock.Now().Sub(launched), ConsoleSeen: seen, Addr: addr, PortOpen: portUp}
		}
	}
}

// consoleWatch reads what is appended to the console log after it was
// created, looking for a line.
type consoleWatch struct {
	path   string
	offset int64
	buf    string
	found  bool
}

func newConsoleWatch(path string) *consoleWatch {
	w := &consoleWatch{path: path}
	if st, err := os.Stat(path); err == nil {
		w.offset = st.Size()
	}
	return w
}

func (w *consoleWatch) seen(line string) bool {
	if w.found {
		return true
	}
	f, err := os.Open(w.path)
	if err != nil {
		return false
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() < w.offset {
		w.offset = 0 // log rotated or truncated
	}
	if _, err := f.Seek(w.offset, io.SeekStart); err != nil {
		return false
	}
	b, _ := io.ReadAll(f)
	w.offset += int64(len(b))
	w.buf += string(b)
	if i := strings.LastIndexByte(w.buf, '\n'); i >= 0 {
		w.found = strings.Contains(w.buf[:i], line)
		w.buf = w.buf[i+1:]
	}
	return w.found
}

// tail returns the last n lines of a file.
func tail(path string, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
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
