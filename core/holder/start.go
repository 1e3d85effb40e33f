package holder

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"time"

	"github.com/quiesce/quiesce/core/proc"
	"github.com/quiesce/quiesce/core/runas"
)

// Launcher starts holder processes: the quiesce binary's hidden hold
// command, with the log file handed down open (a holder running as the
// database's OS user could not open quiesce's log itself).
type Launcher struct {
	Path string   // the quiesce binary
	Args []string // the command line after Path ("hold")
	Log  *os.File // the log the holder appends to; nil: none
}

// The file descriptors a holder finds open besides its standard streams
// (ExtraFiles): the result pipe, the control socket, the log.
const (
	FDResult  = 3
	FDControl = 4
	FDLog     = 5
)

// Handle is the freeze's side of a holder it started.
type Handle struct {
	Proc   proc.Proc
	Socket string
	cmd    *exec.Cmd
	result *os.File
	waited chan struct{}
}

// Start starts a holder for spec as account a (nil: quiesce's own user),
// listening on the control socket sock ("" for a probe, which needs
// none). It returns once the process runs; Wait reads its result.
func (l Launcher) Start(spec Spec, a *runas.Account, sock string) (*Handle, error) {
	if l.Path == "" {
		return nil, errors.New("no quiesce binary to start a holder from")
	}
	in, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	rr, rw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer rw.Close()
	files := []*os.File{rw, nil, nil}
	if sock != "" {
		ln, err := listen(sock)
		if err != nil {
			rr.Close()
			return nil, fmt.Errorf("control socket: %w", err)
		}
		lf, err := ln.File()
		ln.SetUnlinkOnClose(false)
		ln.Close() // the holder's copy (lf) listens on
		if err != nil {
			rr.Close()
			return nil, err
		}
		defer lf.Close()
		files[1] = lf
	}
	files[2] = l.Log
	cmd := l.command(a)
	cmd.ExtraFiles = files
	runas.CloseInheritedOnExec()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		rr.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		rr.Close()
		return nil, fmt.Errorf("start holder: %w", err)
	}
	h := &Handle{Socket: sock, cmd: cmd, result: rr, waited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(h.waited) }() // reaped while this process lives; init reaps it after
	_, werr := stdin.Write(in)
	_ = stdin.Close()
	p, perr := proc.ByPID(cmd.Process.Pid)
	if werr != nil || perr != nil {
		h.kill()
		return nil, fmt.Errorf("start holder: %w", errors.Join(werr, perr))
	}
	h.Proc = p
	return h, nil
}

// command is the holder's command line, run as a in a session of its
// own, with no standard streams but its input, and an environment of its
// own (none of the caller's PG*/MYSQL_* variables reach the driver).
func (l Launcher) command(a *runas.Account) *exec.Cmd {
	acct := runas.Account{UID: os.Geteuid()}
	if a != nil {
		acct = *a
	}
	cmd := runas.Command(acct, "/", l.Path, l.Args...)
	if cmd.Env == nil {
		cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
		if a != nil {
			cmd.Env = append(cmd.Env, "HOME="+a.Home, "USER="+a.Name)
		}
	}
	return cmd
}

// Wait reads the holder's result until by; past it, or when ctx ends,
// the holder is killed (its session drops: the server releases whatever
// it was waiting for) and the error says so.
func (h *Handle) Wait(ctx context.Context, by time.Time) (Acquired, error) {
	defer h.result.Close()
	got := make(chan Acquired, 1)
	failed := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(io.LimitReader(h.result, 1<<20)).ReadBytes('\n')
		var a Acquired
		if err == nil {
			err = json.Unmarshal(line, &a)
		}
		if err != nil {
			failed <- err
			return
		}
		got <- a
	}()
	timer := time.NewTimer(time.Until(by))
	defer timer.Stop()
	select {
	case a := <-got:
		if a.Err != "" {
			h.reap(5 * time.Second) // it gives up its session and exits
			return a, &AcquireError{Msg: a.Err, Class: a.Class}
		}
		return a, nil
	case err := <-failed:
		h.kill()
		return Acquired{}, &AcquireError{Msg: "the holder ended without a word (" + err.Error() + "): see the log", Class: ClassOther}
	case <-timer.C:
		h.kill()
		return Acquired{}, &AcquireError{Msg: fmt.Sprintf("no lock by %s: the holder was ended (its session dropped, nothing is held)", by.Format("15:04:05.000")), Class: ClassTimeout}
	case <-ctx.Done():
		h.kill()
		return Acquired{}, &AcquireError{Msg: "interrupted while waiting for the lock: the holder was ended", Class: ClassOther}
	}
}

// reap waits up to limit for the holder to exit, then kills it.
func (h *Handle) reap(limit time.Duration) {
	select {
	case <-h.waited:
	case <-time.After(limit):
		h.kill()
	}
}

// Kill ends the holder now (its session drops) and waits until it is
// gone.
func (h *Handle) Kill() { h.kill() }

// kill ends the holder now and waits until it is gone.
func (h *Handle) kill() {
	_ = h.cmd.Process.Kill()
	<-h.waited
}

// AcquireError is a lock the holder did not get.
type AcquireError struct {
	Msg   string
	Class string
}

func (e *AcquireError) Error() string { return e.Msg }

// Unwrap gives the class's error.
func (e *AcquireError) Unwrap() error {
	switch e.Class {
	case ClassRefused:
		return ErrRefused
	case ClassAuth:
		return ErrAuth
	case ClassTimeout:
		return ErrTimeout
	case ClassUnsupported:
		return ErrUnsupported
	}
	return nil
}

// Ask sends op to the holder listening on sock and returns its report;
// limit bounds the whole exchange (a release waits for the server).
func Ask(ctx context.Context, sock, op string, limit time.Duration) (Report, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	conn, err := dial(ctx, sock)
	if err != nil {
		return Report{}, &GoneError{Err: err}
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	b, _ := json.Marshal(request{Op: op})
	if _, err := conn.Write(append(b, '\n')); err != nil {
		return Report{}, &GoneError{Err: err}
	}
	line, err := bufio.NewReader(io.LimitReader(conn, 1<<20)).ReadBytes('\n')
	if err != nil {
		if errors.Is(err, io.EOF) {
			return Report{}, &GoneError{Err: errors.New("it ended without an answer")}
		}
		return Report{}, err
	}
	var rep Report
	if err := json.Unmarshal(line, &rep); err != nil {
		return Report{}, err
	}
	return rep, nil
}

// GoneError: no holder answers on the control socket.
type GoneError struct{ Err error }

func (e *GoneError) Error() string { return "no holder answers: " + e.Err.Error() }
func (e *GoneError) Unwrap() error { return e.Err }

var _ net.Conn = (*net.UnixConn)(nil)
