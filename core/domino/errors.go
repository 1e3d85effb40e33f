package domino

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/quiesce/quiesce/core/proc"
	"github.com/quiesce/quiesce/core/service"
)

// Sentinel errors; the typed errors below wrap them for errors.Is.
var (
	// ErrAlreadyRunning: start refused because server processes exist.
	ErrAlreadyRunning = errors.New("already running")
	// ErrDisabled: the data directory holds a domino_disabled file.
	ErrDisabled = errors.New("server start disabled")
	// ErrStartFailed: the server exited during start-up.
	ErrStartFailed = errors.New("server exited during start-up")
	// ErrNotReady: the server did not become ready in time.
	ErrNotReady = errors.New("server not ready")
	// ErrNotInstalled: the program directory does not hold Domino.
	ErrNotInstalled = errors.New("no Domino installation there")
	// ErrStopFailed: processes survived every escalation step.
	ErrStopFailed = errors.New("server processes survived the stop")
)

// AlreadyRunningError lists the processes that block a start.
type AlreadyRunningError struct{ Procs []proc.Proc }

func (e *AlreadyRunningError) Error() string {
	return fmt.Sprintf("already running: %d Domino processes (%s)", len(e.Procs), short(e.Procs))
}
func (e *AlreadyRunningError) Unwrap() error { return ErrAlreadyRunning }

// StartError: the launched server exited before it was ready, or its
// Windows service failed to start or stopped again.
type StartError struct {
	ExitCode int
	Service  string   // the Windows service, when the server runs as one
	Cause    error    // what the service control manager said
	Tail     []string // last lines of the server's output (or console) log
	Log      string
}

func (e *StartError) Error() string {
	msg := fmt.Sprintf("server exited during start-up with code %d", e.ExitCode)
	switch {
	case e.Service != "" && errors.Is(e.Cause, service.ErrServiceStopped):
		msg = fmt.Sprintf("service %q stopped during start-up", e.Service)
	case e.Service != "":
		msg = fmt.Sprintf("service %q did not start: %v", e.Service, e.Cause)
	}
	if len(e.Tail) > 0 {
		msg += ": " + e.Tail[len(e.Tail)-1]
	}
	return msg + " (see " + e.Log + ")"
}
func (e *StartError) Unwrap() error { return ErrStartFailed }

// NotReadyError: the server runs but did not prove readiness in time.
type NotReadyError struct {
	Waited      time.Duration
	ConsoleSeen bool   // the "Server started" line appeared
	Addr        string // NRPC address probed
	PortOpen    bool
}

func (e *NotReadyError) Error() string {
	var missing []string
	if !e.ConsoleSeen {
		missing = append(missing, "no \"Server started on physical node\" console line")
	}
	if !e.PortOpen {
		missing = append(missing, "NRPC port "+e.Addr+" not accepting")
	}
	return fmt.Sprintf("server not ready after %s: %s (it is still running)", e.Waited.Round(time.Millisecond), strings.Join(missing, ", "))
}
func (e *NotReadyError) Unwrap() error { return ErrNotReady }

// StopError: processes survived SIGKILL (uninterruptible sleep, or owned
// by someone quiesce cannot signal).
type StopError struct {
	Waited time.Duration
	Left   []proc.Proc
	Result StopResult
}

func (e *StopError) Error() string {
	return fmt.Sprintf("%d Domino processes still alive after %s and %s: %s", len(e.Left), e.Waited.Round(time.Millisecond), lastKill, short(e.Left))
}
func (e *StopError) Unwrap() error { return ErrStopFailed }

// short lists at most a few processes.
func short(procs []proc.Proc) string {
	names := proc.Names(procs)
	if len(names) > 6 {
		names = append(names[:6], fmt.Sprintf("and %d more", len(names)-6))
	}
	return strings.Join(names, ", ")
}
