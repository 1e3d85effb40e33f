//go:build linux

package freeze_test

import (
	"context"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/core/freeze"
)

type events []freeze.Event

func (e *events) Observe(ev freeze.Event) { *e = append(*e, ev) }

// Each operation reaches the context's observer with what monitoring
// needs: a forced stop says so, and the thaw brings the outage and the
// freeze window, the window inside the outage.
func TestObserverSeesForcedStopOutageAndWindow(t *testing.T) {
	r := newRig(t, simtest.Options{ShutdownSeconds: 0.2, Ini: map[string]string{"SimHangTask": "router"}}, 500*time.Millisecond,
		freeze.Policy{ContinueForced: true})
	r.start(t)
	var seen events
	octx := freeze.WithObserver(ctx, &seen)
	if _, err := r.f.Freeze(octx, vmware); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the snapshot
	if _, err := r.f.Thaw(octx, vmware); err != nil {
		t.Fatal(err)
	}
	if _, err := r.f.Thaw(context.Background(), vmware); err != nil { // no observer: nothing reported
		t.Fatal(err)
	}
	if len(seen) != 2 {
		t.Fatalf("want 2 events, got %+v", seen)
	}
	fr, th := seen[0], seen[1]
	if fr.Op != freeze.OpFreeze || fr.Instance != "domino" || fr.Caller != vmware.Name || fr.Outcome != "stopped" || !fr.Forced || fr.Failed() {
		t.Errorf("freeze event %+v", fr)
	}
	if th.Op != freeze.OpThaw || th.Outcome != "started" || th.Window < 100*time.Millisecond || th.Outage <= th.Window || th.Forced {
		t.Errorf("thaw event %+v", th)
	}
}
