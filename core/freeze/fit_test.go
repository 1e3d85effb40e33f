//go:build linux

package freeze_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/core/freeze"
)

// A caller that kills its hook at a limit too short for a clean stop (the
// cloud agents): the freeze is refused at once, the running server is not
// touched, no state is left, and the error says what it needs.
func TestHardLimitRefusesAStopThatCannotFit(t *testing.T) {
	r := newRig(t, simtest.Options{ShutdownSeconds: 0.2}, 60*time.Second, freeze.Policy{})
	r.start(t)
	before := r.sim.Procs()
	gcp := freeze.Caller{Name: "gcp", Budget: 60 * time.Second, Limits: freeze.Limits{Hard: true}}
	began := time.Now()
	_, err := r.f.Freeze(ctx, gcp)
	took := time.Since(began)
	var nf *freeze.NoFitError
	var fe *freeze.FreezeError
	if !errors.As(err, &nf) || !errors.As(err, &fe) || !fe.NotStopped || !errors.Is(err, freeze.ErrFreezeFailed) {
		t.Fatalf("freeze: %v", err)
	}
	if nf.Budget != 60*time.Second || nf.Needs <= nf.Budget {
		t.Fatalf("needs: %+v", nf)
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "gcp kills its hook after 1m0s") || !strings.Contains(msg, "still running") {
		t.Fatalf("one line expected, got %q", msg)
	}
	if after := r.sim.Procs(); !slices.Equal(before, after) || !r.sim.Serving() {
		t.Fatalf("a refused freeze touched the server: %v -> %v", before, after)
	}
	if rec := r.record(t); !rec.Empty() {
		t.Fatalf("a refused freeze left a record: %+v", rec)
	}
	t.Logf("refused in %s", took)

	// The same limit, waited out rather than killed at (Hard unset): the
	// stop is attempted with the graceful wait the plan allows.
	soft := gcp
	soft.Hard = false
	if err := freeze.Refuse(soft, r.f.Plan(soft)); err != nil {
		t.Fatalf("a caller that waits is refused: %v", err)
	}
	// A limit that holds the stop is not refused.
	long := gcp
	long.Budget = nf.Needs
	if p := r.f.Plan(long); p.TooTight || freeze.Refuse(long, p) != nil {
		t.Fatalf("Needs %s does not fit: %+v", nf.Needs, p)
	}
	long.Budget = nf.Needs - time.Second
	if p := r.f.Plan(long); !p.TooTight {
		t.Fatalf("a second below Needs (%s) still fits: %+v", nf.Needs, p)
	}
}

// Needs is exact on both sides of the margin's 300 s bend.
func TestPlanNeeds(t *testing.T) {
	withPre := timeouts(600*time.Second, 90*time.Second, 0)
	withPre.Steps = append([]freeze.Step{{Name: "pre-shutdown", Limit: 20 * time.Second}}, withPre.Steps...)
	for _, tt := range []freeze.Timeouts{timeouts(60*time.Second, 10*time.Second, 0), withPre} {
		n := freeze.PlanFor(time.Hour, tt).Needs()
		if p := freeze.PlanFor(n, tt); p.TooTight {
			t.Fatalf("%+v: Needs %s does not fit", tt, n)
		}
		if p := freeze.PlanFor(n-time.Second, tt); !p.TooTight {
			t.Fatalf("%+v: %s fits although below Needs %s", tt, n-time.Second, n)
		}
	}
}

// Two applications whose stops each fit 45 s but not one after the other:
// a hard caller's group freeze is refused before either is stopped.
func TestGroupRefusesBeforeAnyMemberStops(t *testing.T) {
	a, b := &scripted{running: true, killWait: 3 * time.Second}, &scripted{running: true, killWait: 3 * time.Second}
	fa, _ := scriptedRig(t, a)
	fb, _ := scriptedRig(t, b)
	g := freeze.Group{Members: []*freeze.Session{fa, fb}}
	c := freeze.Caller{Name: "aws", Budget: 45 * time.Second, Limits: freeze.Limits{Hard: true}}
	if fa.Plan(c).TooTight || !g.Plan(c).TooTight {
		t.Fatalf("member plan %+v, group plan %+v", fa.Plan(c), g.Plan(c))
	}
	_, err := g.Freeze(ctx, c)
	var nf *freeze.NoFitError
	if !errors.As(err, &nf) || !a.running || !b.running {
		t.Fatalf("freeze: %v (running %v %v)", err, a.running, b.running)
	}
	c.Hard = false
	if _, err := g.Freeze(ctx, c); err != nil || a.running || b.running {
		t.Fatalf("a caller that waits: %v (running %v %v)", err, a.running, b.running)
	}
}
