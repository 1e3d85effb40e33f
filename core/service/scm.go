package service

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// SCMState is a Windows service's state as the logic below needs it.
type SCMState int

// Service states.
const (
	SCMStopped SCMState = iota
	SCMStartPending
	SCMStopPending
	SCMRunning
	SCMOther // paused, continue pending, ...
)

func (s SCMState) String() string {
	return [...]string{"stopped", "start pending", "stop pending", "running", "other"}[s]
}

// scmHandle is one opened service.
type scmHandle interface {
	State() (SCMState, error)
	Stop() error
	Start() error
	Close()
}

// ErrServiceStopped: the service stopped again while it was being started.
var ErrServiceStopped = errors.New("service stopped during start")

// WindowsService manages a Windows service through the service control
// manager: start and stop wait on the service's own state.
type WindowsService struct {
	Name   string
	Notice func(msg string) // told what the logs should show; nil for nothing
	open   func(name string) (scmHandle, error)
	poll   time.Duration
}

// NewWindowsService returns the manager of the named service.
func NewWindowsService(name string) WindowsService {
	return WindowsService{Name: name, open: openSCM, poll: 250 * time.Millisecond}
}

func (w WindowsService) String() string { return "Windows service " + w.Name }

// Start implements Manager: it returns once the service runs; exited then
// reports the service stopping again while ctx lasts.
func (w WindowsService) Start(ctx context.Context) (<-chan error, error) {
	h, err := w.open(w.Name)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	st, err := w.waitWhile(ctx, h, SCMStopPending)
	if err != nil || st == SCMRunning {
		return nil, err
	}
	if err := h.Start(); err != nil {
		return nil, fmt.Errorf("start service %s: %w", w.Name, err)
	}
	if err := w.waitRunning(ctx, h); err != nil {
		return nil, err
	}
	return w.watch(ctx), nil
}

// watch delivers an error when the service is seen stopped before ctx
// ends: a service that runs, then stops before its application is ready,
// failed to start (its readiness need not be waited for).
func (w WindowsService) watch(ctx context.Context) <-chan error {
	stopped := make(chan error, 1)
	go func() {
		h, err := w.open(w.Name)
		if err != nil {
			return
		}
		defer h.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(w.poll):
			}
			if st, err := h.State(); err == nil && st == SCMStopped {
				stopped <- fmt.Errorf("service %s: %w", w.Name, ErrServiceStopped)
				return
			}
		}
	}()
	return stopped
}

// StartStopped starts a service whose processes the caller has seen gone.
// A RUNNING or STOP_PENDING state is then the service control manager not
// having noticed the exit yet (Windows notices at once; wine never
// notices a killed service process): it is given staleGrace to catch up,
// then StartService is asked anyway (which wine honours, launching the
// service anew).
func (w WindowsService) StartStopped(ctx context.Context) (<-chan error, error) {
	h, err := w.open(w.Name)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	gctx, cancel := context.WithTimeout(ctx, staleGrace)
	st, err := w.waitWhile(gctx, h, SCMRunning, SCMStopPending, SCMStartPending)
	cancel()
	if err != nil && ctx.Err() != nil {
		return nil, err
	}
	if st != SCMStopped {
		w.notice(fmt.Sprintf("service %s reported %s although none of its processes runs; starting it anyway", w.Name, st))
	}
	if err := h.Start(); err != nil {
		return nil, fmt.Errorf("start service %s (reported %s): %w", w.Name, st, err)
	}
	if err := w.waitRunning(ctx, h); err != nil {
		return nil, err
	}
	return w.watch(ctx), nil
}

// staleGrace is how long StartStopped lets the service control manager
// catch up with a service process that has exited.
const staleGrace = 2 * time.Second

func (w WindowsService) notice(msg string) {
	if w.Notice != nil {
		w.Notice(msg)
	}
}

// startGrace is how long a service may still report "stopped" right after
// Start before that counts as a failed start.
const startGrace = 2 * time.Second

// waitRunning waits until the service runs. "Stopped" after it was seen
// pending, or after startGrace, means it failed to start.
func (w WindowsService) waitRunning(ctx context.Context, h scmHandle) error {
	began, seenPending := time.Now(), false
	for {
		st, err := h.State()
		if err != nil {
			return fmt.Errorf("query service %s: %w", w.Name, err)
		}
		switch {
		case st == SCMRunning:
			return nil
		case st == SCMStartPending:
			seenPending = true
		case st == SCMStopped && (seenPending || time.Since(began) > startGrace):
			return fmt.Errorf("service %s: %w", w.Name, ErrServiceStopped)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("service %s still %s: %w", w.Name, st, ctx.Err())
		case <-time.After(w.poll):
		}
	}
}

// Stop implements Manager.
func (w WindowsService) Stop(ctx context.Context) error {
	h, err := w.open(w.Name)
	if err != nil {
		return err
	}
	defer h.Close()
	st, err := w.waitWhile(ctx, h, SCMStartPending)
	if err != nil || st == SCMStopped {
		return err
	}
	if st != SCMStopPending {
		if err := h.Stop(); err != nil {
			return fmt.Errorf("stop service %s: %w", w.Name, err)
		}
	}
	_, err = w.waitWhile(ctx, h, SCMRunning, SCMStopPending)
	return err
}

// waitWhile polls the service while its state is one of states.
func (w WindowsService) waitWhile(ctx context.Context, h scmHandle, states ...SCMState) (SCMState, error) {
	for {
		st, err := h.State()
		if err != nil {
			return st, fmt.Errorf("query service %s: %w", w.Name, err)
		}
		in := false
		for _, s := range states {
			in = in || s == st
		}
		if !in {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("service %s still %s: %w", w.Name, st, ctx.Err())
		case <-time.After(w.poll):
		}
	}
}
