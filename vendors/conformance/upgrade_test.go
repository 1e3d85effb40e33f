//go:build linux

package conformance

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/cmd/simdomino/timeline"
)

// legacyRelease is the last commit whose records were keyed by target
// name ("domino", "domino-online"): version 1 of the state format.
const legacyRelease = "dff9ad9"

var (
	legacyOnce sync.Once
	legacyBin  string
	legacyErr  string
)

// legacyBinary builds quiesce as it was at legacyRelease, from this
// repository's history (CI checks out the whole history).
func legacyBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds an earlier release: not in the short tier")
	}
	legacyOnce.Do(func() {
		root, err := filepath.Abs(filepath.Join("..", ".."))
		if err != nil {
			legacyErr = err.Error()
			return
		}
		dir, err := os.MkdirTemp("", "quiesce-legacy-")
		if err != nil {
			legacyErr = err.Error()
			return
		}
		_ = os.Chmod(dir, 0o755)
		archive := exec.Command("sh", "-c", "git -C \"$0\" archive "+legacyRelease+" | tar -x -C \"$1\"", root, dir)
		if out, err := archive.CombinedOutput(); err != nil {
			legacyErr = "git archive " + legacyRelease + ": " + err.Error() + ": " + string(out)
			return
		}
		build := exec.Command("go", "build", "-o", filepath.Join(dir, "quiesce-"+legacyRelease), "./cmd/quiesce")
		build.Dir = dir
		if out, err := build.CombinedOutput(); err != nil {
			legacyErr = "building " + legacyRelease + ": " + err.Error() + ": " + string(out)
			return
		}
		legacyBin = filepath.Join(dir, "quiesce-"+legacyRelease)
	})
	simtest.Require(t, legacyBin != "", "quiesce "+legacyRelease+" from this repository's history: "+legacyErr)
	return legacyBin
}

// A freeze taken by the release before instances (its record keyed
// "domino", its watchdog that release's) is thawed by this one: the
// record is found by the instance it belongs to and taken over, the
// server is started once, and nothing of the old record is left.
func TestUpgradeThawsAFreezeOfTheEarlierRelease(t *testing.T) {
	old := legacyBinary(t)
	for _, online := range []bool{false, true} {
		name := map[bool]string{false: "stop", true: "online"}[online]
		t.Run(name, func(t *testing.T) {
			a, _, state := newPartitions(t, online, "")
			run := func(bin string, args ...string) (int, string) {
				cmd := exec.Command(bin, append([]string{"--config", a.cfg, "--log-file", a.log}, args...)...)
				out, _ := cmd.CombinedOutput()
				return cmd.ProcessState.ExitCode(), string(out)
			}
			code, out := run(old, "vmware", "freeze")
			if code != 0 {
				t.Fatalf("freeze by %s: exit %d %s", legacyRelease, code, out)
			}
			legacy := map[bool]string{false: "domino.json", true: "domino-online.json"}[online]
			if _, err := os.Stat(filepath.Join(state, legacy)); err != nil {
				t.Fatalf("%s recorded no %s: %v", legacyRelease, legacy, err)
			}
			snap := a.sim.Snapshot()
			code, out = run(a.bin, "vmware", "thaw")
			want := "started and serving"
			if online {
				want = "backup mode ended"
			}
			if code != 0 || !strings.Contains(out, want) {
				t.Fatalf("thaw by this release: exit %d %s", code, out)
			}
			if online {
				if code, v := a.sim.VerifyWithDeltas(snap, a.sim.BackupDeltaDir(backupIDOf(out))); code != 0 {
					t.Fatalf("the snapshot with its deltas: %s", v)
				}
			} else if rep := a.sim.Verify(snap); !rep.Consistent() {
				t.Fatalf("the snapshot: %+v", rep)
			}
			entries, _ := os.ReadDir(state)
			for _, e := range entries {
				if strings.HasSuffix(e.Name(), ".json") && e.Name() != "metrics.json" {
					t.Errorf("left in the state directory: %s", e.Name())
				}
			}
			starts := 0
			for _, e := range a.sim.Timeline() {
				if e.Name == timeline.StartRequested {
					starts++
				}
			}
			want2 := map[bool]int{false: 2, true: 1}[online] // the test's own start, then the thaw's
			if !a.sim.Serving() || starts != want2 {
				t.Fatalf("serving %v, started %d times (want %d)", a.sim.Serving(), starts, want2)
			}
			if code, out := run(a.bin, "vmware", "thaw"); code != 0 || !strings.Contains(out, "nothing frozen") {
				t.Fatalf("second thaw: exit %d %s", code, out)
			}
		})
	}
}
