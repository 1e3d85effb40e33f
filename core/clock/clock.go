// Package clock provides the time source the engine uses, so tests and
// benchmarks can inject their own.
package clock

import (
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// Clock tells the time and waits. Every decision the freeze engine
// (core/freeze) takes on time reads its injected Clock: a freeze's
// deadline, whether a freeze has expired (before each operation, in
// recovery and in the watchdog, which also sleeps on it), a late thaw, how
// much of the window a stop left. core/freeze/clock_test.go runs them on a
// Fake. The waits on real processes, sockets and files (core/proc,
// core/ready, core/online's file events, core/state's lock) run until a
// deadline computed from the Clock, on the runtime's own timers: they wait
// for the kernel, which a fake clock cannot move.
type Clock interface {
	Now() time.Time
	// After delivers the time on the channel once d has passed.
	After(d time.Duration) <-chan time.Time
	// SinceBoot reads the clock that counts since the machine booted
	// (Linux: CLOCK_BOOTTIME, which counts suspend too): a step of the wall
	// clock does not move it. boot identifies the boot; ok is false where
	// there is no such clock (the wall clock is used instead).
	SinceBoot() (boot string, d time.Duration, ok bool)
}

// Real is the wall clock, and the system's boot clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// After is time.After.
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }

// SinceBoot reads the system's boot clock.
func (Real) SinceBoot() (string, time.Duration, bool) { return sinceBoot() }

// Fake is a clock that moves only when told to: deadlines, expiries and
// the watchdog's sleeps can be tested without waiting for them. Its boot
// clock moves with Advance, not with Step.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	boot    time.Duration
	noBoot  bool
	waiters []waiter
}

// FakeBoot is the boot a Fake clock reports.
const FakeBoot = "fake-boot"

// SinceBoot reads the fake boot clock.
func (f *Fake) SinceBoot() (string, time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return FakeBoot, f.boot, !f.noBoot
}

// WithoutBoot makes the Fake a clock without a boot clock, as on a
// platform that has none.
func (f *Fake) WithoutBoot() *Fake {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noBoot = true
	return f
}

// Step moves the wall time by d (either way) and nothing else: a clock
// set by an administrator or NTP. No wait fires: they count real time.
func (f *Fake) Step(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	for i := range f.waiters {
		f.waiters[i].at = f.waiters[i].at.Add(d)
	}
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewFake returns a Fake clock reading start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// After fires when the fake time reaches now+d (at once when d <= 0).
func (f *Fake) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- f.now
		return ch
	}
	f.waiters = append(f.waiters, waiter{at: f.now.Add(d), ch: ch})
	return ch
}

// Advance moves the time forward by d, firing every wait that ends by then.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	f.boot += d
	sort.Slice(f.waiters, func(i, j int) bool { return f.waiters[i].at.Before(f.waiters[j].at) })
	kept := f.waiters[:0]
	for _, w := range f.waiters {
		if w.at.After(f.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- f.now
	}
	f.waiters = kept
}

// Next reports when the earliest pending wait ends; ok is false when
// nothing waits on the clock.
func (f *Fake) Next() (at time.Time, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, w := range f.waiters {
		if i == 0 || w.at.Before(at) {
			at = w.at
		}
	}
	return at, len(f.waiters) > 0
}

// Shifted is the real clock with its wall time moved by the duration
// written in File ("1h", "-30m"; read at every Now, missing: none): tests
// step the wall clock of every quiesce process they start, as NTP or an
// administrator would, without touching the machine's. The boot clock is
// the real one.
type Shifted struct{ File string }

// Now returns the shifted wall time.
func (s Shifted) Now() time.Time {
	now := time.Now()
	b, err := os.ReadFile(s.File)
	if err != nil {
		return now
	}
	d, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return now
	}
	return now.Add(d)
}

// After is time.After.
func (Shifted) After(d time.Duration) <-chan time.Time { return time.After(d) }

// SinceBoot reads the system's boot clock.
func (Shifted) SinceBoot() (string, time.Duration, bool) { return sinceBoot() }
