//go:build linux

package generic

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/freeze/stopstart"
	"github.com/quiesce/quiesce/core/state"
)

// A generic target that has to be killed is described in neutral words:
// its files, not Domino's databases. The freeze is real: a real process
// whose stop command fails, killed by the real escalation.
func TestForcedStopOfAGenericTargetSpeaksOfFiles(t *testing.T) {
	for _, continueForced := range []bool{false, true} {
		tg := newTarget(t, app(t, []string{"/bin/false"}))
		if _, err := tg.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		store, err := state.Open(filepath.Join(t.TempDir(), "state"))
		if err != nil {
			t.Fatal(err)
		}
		f := stopstart.NewSession(tg, tg.Instance(), store, freeze.Policy{LockWait: time.Second, ContinueForced: continueForced}, zaptest.NewLogger(t), clock.Real{})
		res, err := f.Freeze(context.Background(), freeze.Caller{Name: "vmware", Budget: time.Minute})
		said := strings.Join(res.Warnings, "; ")
		want := "files of appd["
		if err != nil {
			said, want = err.Error(), "its files may be open in the snapshot"
		}
		if continueForced == (err != nil) || !strings.Contains(said, want) || strings.Contains(said, "database") {
			t.Errorf("forced stop (forced_stop = continue: %v): %q (error %v); want %q and no databases", continueForced, said, err, want)
		}
		if continueForced {
			if _, err := f.Thaw(context.Background(), freeze.Caller{Name: "vmware"}); err != nil {
				t.Fatalf("thaw: %v", err)
			}
		}
	}
}
