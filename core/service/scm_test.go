package service

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeSCM plays a service: each query returns the next scripted state
// (the last one repeats); Start and Stop switch to another script.
// Each Close of a handle is sent on closed when that is not nil.
type fakeSCM struct {
	mu            sync.Mutex
	states        []SCMState
	onStart       []SCMState
	onStop        []SCMState
	starts, stops int
	closed        chan struct{}
}

func (f *fakeSCM) State() (SCMState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.states[0]
	if len(f.states) > 1 {
		f.states = f.states[1:]
	}
	return st, nil
}
func (f *fakeSCM) Start() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts++
	f.states = f.onStart
	return nil
}
func (f *fakeSCM) Stop() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stops++
	f.states = f.onStop
	return nil
}
func (f *fakeSCM) Close() {
	if f.closed != nil {
		f.closed <- struct{}{}
	}
}

func svcOn(f *fakeSCM) WindowsService {
	return WindowsService{Name: "Lotus Domino Server (LotusDominoData)", poll: time.Millisecond,
		open: func(string) (scmHandle, error) { return f, nil }}
}

func TestStopWaitsForStopped(t *testing.T) {
	f := &fakeSCM{states: []SCMState{SCMRunning}, onStop: []SCMState{SCMStopPending, SCMStopPending, SCMStopped}}
	if err := svcOn(f).Stop(context.Background()); err != nil || f.stops != 1 || f.states[0] != SCMStopped {
		t.Fatalf("stop: %v, stops %d", err, f.stops)
	}
}

func TestStopOfStoppedServiceDoesNothing(t *testing.T) {
	f := &fakeSCM{states: []SCMState{SCMStopped}}
	if err := svcOn(f).Stop(context.Background()); err != nil || f.stops != 0 {
		t.Fatalf("stop: %v, stops %d", err, f.stops)
	}
}

func TestStopWhileStopPendingJustWaits(t *testing.T) {
	f := &fakeSCM{states: []SCMState{SCMStopPending, SCMStopped}}
	if err := svcOn(f).Stop(context.Background()); err != nil || f.stops != 0 {
		t.Fatalf("stop: %v, stops %d", err, f.stops)
	}
}

func TestStopTimesOut(t *testing.T) {
	f := &fakeSCM{states: []SCMState{SCMRunning}, onStop: []SCMState{SCMStopPending}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := svcOn(f).Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stop that never ends: %v", err)
	}
}

func TestStartWaitsForRunning(t *testing.T) {
	f := &fakeSCM{states: []SCMState{SCMStopped}, onStart: []SCMState{SCMStopped, SCMStartPending, SCMRunning}}
	if _, err := svcOn(f).Start(context.Background()); err != nil || f.starts != 1 {
		t.Fatalf("start: %v starts %d", err, f.starts)
	}
}

func TestStartOfRunningServiceDoesNothing(t *testing.T) {
	f := &fakeSCM{states: []SCMState{SCMRunning}}
	if _, err := svcOn(f).Start(context.Background()); err != nil || f.starts != 0 {
		t.Fatalf("start: %v starts %d", err, f.starts)
	}
}

func TestStartAfterPendingStop(t *testing.T) {
	f := &fakeSCM{states: []SCMState{SCMStopPending, SCMStopped}, onStart: []SCMState{SCMStartPending, SCMRunning}}
	if _, err := svcOn(f).Start(context.Background()); err != nil || f.starts != 1 {
		t.Fatalf("start: %v starts %d", err, f.starts)
	}
}

func TestServiceThatDiesDuringStart(t *testing.T) {
	f := &fakeSCM{states: []SCMState{SCMStopped}, onStart: []SCMState{SCMStartPending, SCMStartPending, SCMStopped}}
	if _, err := svcOn(f).Start(context.Background()); !errors.Is(err, ErrServiceStopped) {
		t.Fatalf("got %v", err)
	}
}

func TestServiceThatStopsAfterRunningIsReported(t *testing.T) {
	f := &fakeSCM{states: []SCMState{SCMStopped}, onStart: []SCMState{SCMStartPending, SCMRunning, SCMRunning, SCMStopped}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	exited, err := svcOn(f).Start(ctx)
	if err != nil || exited == nil {
		t.Fatalf("start: %v, exited %v", err, exited)
	}
	select {
	case err := <-exited:
		if !errors.Is(err, ErrServiceStopped) {
			t.Fatalf("exited: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("a service that stopped after running was not reported")
	}
}

// The watch of a started service ends with the context (it closes its
// handle), and reports nothing while the service runs. No fixed wait: the
// test waits for the watch's handle to be closed, then looks.
func TestWatchEndsWithTheContext(t *testing.T) {
	f := &fakeSCM{states: []SCMState{SCMStopped}, onStart: []SCMState{SCMRunning}, closed: make(chan struct{}, 4)}
	ctx, cancel := context.WithCancel(context.Background())
	exited, err := svcOn(f).Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	<-f.closed // Start's own handle
	cancel()
	select {
	case <-f.closed: // the watch's handle: the watch has ended
	case <-time.After(10 * time.Second):
		t.Fatal("the watch goes on after its context ended")
	}
	select {
	case err := <-exited:
		t.Fatalf("a running service reported as stopped: %v", err)
	default:
	}
}

func TestStartStoppedStartsAServiceReportedRunning(t *testing.T) {
	// the service control manager still says running: it has not noticed
	// the killed process (wine never does)
	f := &fakeSCM{states: []SCMState{SCMRunning}, onStart: []SCMState{SCMStartPending, SCMRunning}}
	w := svcOn(f)
	var notices []string
	w.Notice = func(m string) { notices = append(notices, m) }
	began := time.Now()
	if _, err := w.StartStopped(context.Background()); err != nil || f.starts != 1 {
		t.Fatalf("start: %v, starts %d", err, f.starts)
	}
	if time.Since(began) < staleGrace || len(notices) != 1 {
		t.Fatalf("the stale state was not given its grace, or not logged: %v", notices)
	}
}

func TestStartStoppedOfAStoppedServiceStartsAtOnce(t *testing.T) {
	f := &fakeSCM{states: []SCMState{SCMStopped}, onStart: []SCMState{SCMRunning}}
	began := time.Now()
	if _, err := svcOn(f).StartStopped(context.Background()); err != nil || f.starts != 1 || time.Since(began) > time.Second {
		t.Fatalf("start: %v, starts %d, took %s", err, f.starts, time.Since(began))
	}
}
