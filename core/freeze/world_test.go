package freeze_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/freeze/stopstart"
	"github.com/quiesce/quiesce/core/state"
)

// The world of the state-machine audit: one application, one state
// directory, a fake clock and quiesce processes that can be SIGKILLed at
// any step. A process is one Freezer with its own kill point; a kill is a
// panic that unwinds the process (its locks are released, as the kernel
// releases a dead process's flocks) and nothing else: what the process
// already did to the application and to the state stays done.

// killed is the panic of a process killed at a step.
type killed struct{ step string }

// app is the application as the processes see it. A stop or a start that
// a killed process began goes on by itself: the server shuts down, the
// detached launch comes up.
type app struct {
	mu       sync.Mutex
	clk      *clock.Fake
	phase    string // serving, stopping, stopped, starting
	since    time.Time
	forced   bool // the next stop has to kill (a task hangs)
	failNext int  // the next starts fail this often
	stops    int
	starts   int
}

const (
	appShutdown = time.Minute // a shutdown a killed stop began ends by itself after this
	appStartup  = time.Minute // a launch a killed start began serves after this
)

// tick moves a stop or start that goes on by itself forward.
func (a *app) tick() {
	now := a.clk.Now()
	switch {
	case a.phase == "stopping" && !now.Before(a.since.Add(appShutdown)):
		a.phase = "stopped"
	case a.phase == "starting" && !now.Before(a.since.Add(appStartup)):
		a.phase = "serving"
	}
}

func (a *app) state() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tick()
	return a.phase
}

// qproc is one quiesce process: its view of the target, killed at its
// killAt-th step (0: never).
type qproc struct {
	w      *world
	name   string
	killAt int    // killed at this step
	killOn string // or at the first step of this name
	steps  []string
	dead   bool
}

func (p *qproc) point(step string) {
	p.steps = append(p.steps, step)
	if p.killAt == len(p.steps) || (p.killOn == step && !p.dead) {
		p.dead = true
		panic(killed{step})
	}
}

func (p *qproc) Name() string { return "app" }
func (p *qproc) Timeouts() freeze.Timeouts {
	return timeouts(appShutdown, time.Second, appStartup)
}

func (p *qproc) Running() (bool, error) {
	p.point("look")
	return p.w.app.state() != "stopped", nil
}

func (p *qproc) Stop(context.Context, time.Duration) (stopstart.StopReport, error) {
	a := p.w.app
	p.point("stop")
	a.mu.Lock()
	a.tick()
	if a.phase == "stopped" {
		a.mu.Unlock()
		return stopstart.StopReport{Outcome: "not running"}, nil
	}
	if a.phase != "stopping" {
		a.phase, a.since = "stopping", a.clk.Now()
	}
	a.stops++
	a.mu.Unlock()
	p.point("stop: going down")
	a.mu.Lock()
	a.phase = "stopped" // the stop waits for the last process to exit
	forced := a.forced
	a.forced = false
	a.mu.Unlock()
	p.point("stop: down")
	if forced {
		return stopstart.StopReport{Outcome: "killed", Forced: true, Killed: []string{"router"}}, nil
	}
	return stopstart.StopReport{Outcome: "clean"}, nil
}

func (p *qproc) Start(context.Context) (stopstart.StartReport, error) {
	a := p.w.app
	p.point("start")
	a.mu.Lock()
	a.tick()
	if a.phase != "stopped" {
		a.mu.Unlock()
		return stopstart.StartReport{}, fmt.Errorf("start: %w", stopstart.ErrAlreadyRunning)
	}
	a.phase, a.since = "starting", a.clk.Now()
	a.starts++
	fail := a.failNext > 0
	if fail {
		a.failNext--
	}
	a.mu.Unlock()
	p.point("start: launched")
	a.mu.Lock()
	defer a.mu.Unlock()
	if fail {
		a.phase = "stopped"
		return stopstart.StartReport{}, errors.New("server exited during start-up")
	}
	a.phase = "serving" // the start waits until it serves
	return stopstart.StartReport{Ready: time.Second}, nil
}

// WaitReady waits for a start under way (makes proc a freeze.Waiter).
func (p *qproc) WaitReady(context.Context) error {
	a := p.w.app
	p.point("wait ready")
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tick()
	switch a.phase {
	case "starting":
		a.phase = "serving"
	case "stopped", "stopping":
		return errors.New("not running")
	}
	return nil
}

// watchdog is a watchdog process started by a freeze: a goroutine run by
// the world one step at a time, so that the order of events is fixed.
type watchdog struct {
	p      *qproc
	parked chan struct{} // it waits on the clock
	done   chan struct{} // it returned or was killed
	err    error
}

// parkClock tells the world when a watchdog waits on the clock.
type parkClock struct {
	*clock.Fake
	parked chan struct{}
}

func (c parkClock) After(d time.Duration) <-chan time.Time {
	ch := c.Fake.After(d)
	if d > 0 { // a wait of 0 returns at once: the watchdog runs on
		c.parked <- struct{}{}
	}
	return ch
}

type world struct {
	t       *testing.T
	clk     *clock.Fake
	app     *app
	store   *state.Store
	log     *zap.Logger
	policy  freeze.Policy
	queued  []*watchdog // spawned, not yet running
	running []*watchdog // running: parked on the clock or done
	trace   []string
	held    map[string]time.Time // callers told their freeze succeeded, not thawed since: the deadline they were given
}

func newWorld(t *testing.T) *world {
	clk := clock.NewFake(time.Date(2026, 11, 23, 8, 33, 0, 0, time.UTC))
	store, err := state.Open(filepath.Join(fastDir(t), "state"))
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, clk: clk, app: &app{clk: clk, phase: "serving"}, store: store, log: zap.NewNop(),
		policy: freeze.Policy{LockWait: time.Second, Deadline: 10 * time.Minute}, held: map[string]time.Time{}}
}

// fastDir is a temporary directory in memory where there is one: the
// audit saves thousands of records, and each save syncs to disk.
func fastDir(t *testing.T) string {
	dir, err := os.MkdirTemp("/dev/shm", "quiesce-audit-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func (w *world) verbose() { w.log = zaptest.NewLogger(w.t) }

func (w *world) note(format string, a ...any) { w.trace = append(w.trace, fmt.Sprintf(format, a...)) }

// freezer returns the Freezer of a new process p, whose watchdog spawns
// go to the queue (a spawn killed before it happens spawns nothing).
func (w *world) freezer(p *qproc) *freeze.Session {
	f := session(p, name(p), w.store, w.policy, w.log.With(zap.String("proc", p.name)), w.clk)
	return f.WithWatchdog(func() error {
		p.point("spawn watchdog")
		wp := &qproc{w: w, name: "watchdog of " + p.name}
		w.queued = append(w.queued, &watchdog{p: wp, parked: make(chan struct{}, 1), done: make(chan struct{})})
		p.point("watchdog spawned")
		return nil
	})
}

// run runs op as a new process killed at its killAt-th step and reports
// whether it was killed, and where.
func (w *world) run(name string, killAt int, op func(f *freeze.Session, p *qproc) (freeze.Result, error)) (res freeze.Result, died string, err error) {
	return w.runProc(&qproc{w: w, name: name, killAt: killAt}, op)
}

// runNamed runs op as a new process killed at its first step named step.
func (w *world) runNamed(name, step string, op func(f *freeze.Session, p *qproc) (freeze.Result, error)) (res freeze.Result, died string, err error) {
	return w.runProc(&qproc{w: w, name: name, killOn: step}, op)
}

func (w *world) runProc(p *qproc, op func(f *freeze.Session, p *qproc) (freeze.Result, error)) (res freeze.Result, died string, err error) {
	name := p.name
	func() {
		defer func() {
			if r := recover(); r != nil {
				k, ok := r.(killed)
				if !ok {
					panic(r)
				}
				died = k.step
			}
		}()
		res, err = op(w.freezer(p), p)
	}()
	if died != "" {
		w.note("%s killed at step %d (%s) after %v", name, len(p.steps), died, p.steps[:len(p.steps)-1])
	} else {
		w.note("%s: %s %v (steps %v)", name, res.Outcome, err, p.steps)
	}
	return res, died, err
}

// startWatchdogs lets the queued watchdogs run, one after the other, each
// until it waits on the clock or ends; the first is killed at its
// killAt-th step.
func (w *world) startWatchdogs(killAt int) (died string) {
	q := w.queued
	w.queued = nil
	for i, wd := range q {
		if i == 0 {
			wd.p.killAt = killAt
		}
		f := session(wd.p, name(wd.p), w.store, w.policy, w.log.With(zap.String("proc", wd.p.name)), parkClock{w.clk, wd.parked})
		go func() {
			defer close(wd.done)
			defer func() {
				if r := recover(); r != nil {
					k, ok := r.(killed)
					if !ok {
						wd.err = fmt.Errorf("panic: %v", r)
						return
					}
					w.note("%s killed at step %d (%s)", wd.p.name, wd.p.killAt, k.step)
					died = k.step
				}
			}()
			wd.err = f.Watch(context.Background())
		}()
		w.running = append(w.running, wd)
		w.await(wd)
	}
	return died
}

// await waits until wd waits on the clock or has ended.
func (w *world) await(wd *watchdog) {
	select {
	case <-wd.parked:
	case <-wd.done:
	case <-time.After(10 * time.Second):
		w.t.Fatalf("a watchdog neither waits on the clock nor ends\n%s", strings.Join(w.trace, "\n"))
	}
}

func (w *world) alive() []*watchdog {
	var out []*watchdog
	for _, wd := range w.running {
		select {
		case <-wd.done:
		default:
			out = append(out, wd)
		}
	}
	return out
}

// heldUntil is the latest deadline given to a caller whose freeze holds:
// the application may stay down until then, not longer.
func (w *world) heldUntil() time.Time {
	var until time.Time
	for _, d := range w.held {
		if d.After(until) {
			until = d
		}
	}
	return until
}

// settle lets the world run on the fake clock until every watchdog has
// ended or limit has passed; it returns the first time the application
// served with nothing left to guard (zero: never).
func (w *world) settle(limit time.Duration) time.Time {
	end := w.clk.Now().Add(limit)
	var servedAt time.Time
	look := func() {
		rec, err := w.store.Load(key("app"))
		if err != nil {
			w.t.Fatal(err)
		}
		if servedAt.IsZero() && w.app.state() == "serving" && !rec.Frozen() && !rec.Owed && !rec.Interrupted() {
			servedAt = w.clk.Now()
		}
	}
	look()
	for w.clk.Now().Before(end) {
		alive := w.alive()
		if len(alive) == 0 {
			// What went on by itself (a shutdown, a launch) ends in time.
			w.clk.Advance(max(appShutdown, appStartup))
			look()
			break
		}
		next, ok := w.clk.Next()
		if !ok {
			w.t.Fatalf("watchdogs alive but none waits on the clock\n%s", strings.Join(w.trace, "\n"))
		}
		step := next.Sub(w.clk.Now())
		w.clk.Advance(step)
		for _, wd := range alive {
			w.await(wd)
		}
		look()
	}
	return servedAt
}
