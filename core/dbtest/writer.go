package dbtest

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Writer writes numbered transactions continuously (1, 2, 3, ...), one
// at a time, and records when each was sent and acknowledged: which were
// acknowledged before a moment, and how long writes were blocked.
type Writer struct {
	write  func(ctx context.Context, i int) error
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	recs   []rec
	errs   []error
}

type rec struct {
	i           int
	sent, acked time.Time
}

// Write starts writing with write(ctx, i) for i = 1, 2, ...; an error is
// recorded and the next number is written.
func Write(write func(ctx context.Context, i int) error) *Writer {
	ctx, cancel := context.WithCancel(context.Background())
	w := &Writer{write: write, cancel: cancel, done: make(chan struct{})}
	go w.run(ctx)
	return w
}

func (w *Writer) run(ctx context.Context) {
	defer close(w.done)
	for i := 1; ctx.Err() == nil; i++ {
		sent := time.Now()
		err := w.write(ctx, i)
		w.mu.Lock()
		if err == nil {
			w.recs = append(w.recs, rec{i: i, sent: sent, acked: time.Now()})
		} else if ctx.Err() == nil {
			w.errs = append(w.errs, err)
		}
		w.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// Stop ends the writing (the transaction under way is abandoned).
func (w *Writer) Stop() {
	w.cancel()
	<-w.done
}

// AckedBefore is the highest number acknowledged before t, and whether
// every number below it was acknowledged too.
func (w *Writer) AckedBefore(t time.Time) (last int, gapless bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	gapless = true
	for k, r := range w.recs {
		if r.acked.After(t) {
			break
		}
		last = r.i
		if r.i != k+1 {
			gapless = false
		}
	}
	return last, gapless
}

// Acked lists the numbers acknowledged before t.
func (w *Writer) Acked(t time.Time) []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []int
	for _, r := range w.recs {
		if !r.acked.After(t) {
			out = append(out, r.i)
		}
	}
	return out
}

// Blocked is the longest a write waited for its acknowledgement among
// those under way at some moment in [from, to]: how long writes were
// blocked in that window. A write still unanswered counts until now.
func (w *Writer) Blocked(from, to time.Time) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var worst time.Duration
	for _, r := range w.recs {
		if r.acked.Before(from) || r.sent.After(to) {
			continue
		}
		worst = max(worst, r.acked.Sub(r.sent))
	}
	return worst
}

// Count is how many writes were acknowledged.
func (w *Writer) Count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.recs)
}

// Errors are the writes that failed.
func (w *Writer) Errors() []error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]error(nil), w.errs...)
}

// Stats are the median and the 99th percentile of ds (zero for none).
func Stats(ds []time.Duration) (median, p99 time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2], s[min(len(s)-1, (len(s)*99+99)/100-1)]
}

// Prober opens a new connection every interval and runs one read: a
// refused connection during a freeze is counted.
type Prober struct {
	cancel       context.CancelFunc
	done         chan struct{}
	mu           sync.Mutex
	ok, refused  int
	firstRefusal error
}

// Probe starts probing with probe(ctx), which opens a connection and
// reads.
func Probe(interval time.Duration, probe func(ctx context.Context) error) *Prober {
	ctx, cancel := context.WithCancel(context.Background())
	p := &Prober{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for ctx.Err() == nil {
			pctx, c := context.WithTimeout(ctx, 10*time.Second)
			err := probe(pctx)
			c()
			p.mu.Lock()
			switch {
			case err == nil:
				p.ok++
			case ctx.Err() == nil:
				p.refused++
				if p.firstRefusal == nil {
					p.firstRefusal = err
				}
			}
			p.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(interval):
			}
		}
	}()
	return p
}

// End stops probing and returns the counts.
func (p *Prober) End() (ok, refused int, first error) {
	p.cancel()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ok, p.refused, p.firstRefusal
}
