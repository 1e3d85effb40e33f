//go:build !windows

// The audit is platform-free logic over the state store, run on Linux with
// its records in memory (/dev/shm): 1,827 scenarios in seconds. Under wine
// every save is a synced write to wine's disk and the audit would take most
// of the Windows tier's time; there the store's own Windows code runs in
// core/state's tests and the regression scenario above in this package.

package freeze_test

import (
	"testing"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// TestStateMachineAudit plays every scenario: each first operation killed
// at each of its steps, then each next operation killed at each of its
// steps or not at all, with the first operation's watchdog running after
// the next operation or before it.
func TestStateMachineAudit(t *testing.T) {
	simtest.Slow(t)
	rows, failed := 0, 0
	perFirst := map[string]int{}
	for _, fst := range firsts {
		for k := 1; ; k++ {
			probe := newWorld(t)
			fst.setup(probe)
			if _, died, _ := fst.op.run(probe, k); died == "" {
				break // the first operation has fewer than k steps
			}
			perFirst[fst.name] = k
			for _, next := range nexts {
				for _, now := range []bool{false, true} {
					if now && next.name == "watchdog" {
						continue
					}
					for j := 1; ; j++ {
						s := scenario{first: fst, k: k, next: next, j: j, watchdogNow: now}
						var o outcome
						ok := t.Run(s.String(), func(t *testing.T) {
							o = play(t, newWorld(t), s)
						})
						rows++
						if !ok {
							failed++
						}
						if o.nextDied == "" || failed > 20 {
							break // j went past the next operation's last step
						}
					}
				}
			}
		}
	}
	t.Logf("%d scenarios played, %d failed; first operations killed at %v steps", rows, failed, perFirst)
	for _, fst := range firsts {
		if perFirst[fst.name] < 2 {
			t.Errorf("%s is killed at %d steps only: the enumeration is broken", fst.name, perFirst[fst.name])
		}
	}
}
