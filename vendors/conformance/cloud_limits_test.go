//go:build linux

package conformance

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/cmd/simdomino/timeline"
)

// hardCallers are the callers that kill their hook at a short limit.
var hardCallers = []string{"nutanix", "gcp"}

func harnessNamed(t *testing.T, name string) func(t *testing.T, r *rig) Harness {
	for _, h := range harnesses {
		if h.name == name {
			return h.make
		}
	}
	t.Fatalf("no harness %s", name)
	return nil
}

// checkFlags point check at where a harness's hook is installed.
func checkFlags(h Harness) []string {
	switch h := h.(type) {
	case *nutanixHarness:
		return []string{"--nutanix-dir", h.dir}
	case *gcpHarness:
		return []string{"--gcp-dir", h.dir, "--gcp-agent-config", h.config}
	}
	return nil
}

// check runs quiesce check and returns its output and exit code.
func (r *rig) check(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(r.bin, append([]string{"check", "--all"}, args...)...)
	cmd.Env = append(os.Environ(), r.env...)
	out, _ := cmd.CombinedOutput()
	return string(out), cmd.ProcessState.ExitCode()
}

// callerLines is check's block about one caller.
func callerLines(out, name string) string {
	var b []string
	in := false
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, name+" ") {
			in = true
		} else if l != "" && l[0] != ' ' {
			in = false
		}
		if in {
			b = append(b, l)
		}
	}
	return strings.Join(b, "\n")
}

// A 60 s limit and a Domino whose clean stop needs more (shutdown_timeout
// 60 s), without Domino Backup: check says the stop does not fit and that
// online mode is not set up, and a freeze is refused at once with one
// line, before the caller's limit, leaving the server exactly as it was.
func TestCloudLimitRefusesAStopThatCannotFit(t *testing.T) {
	for _, name := range hardCallers {
		t.Run(name, func(t *testing.T) {
			r := newRigTimeout(t, quick, "fail", "60s")
			h := harnessNamed(t, name)(t, r)
			r.startServer(t)
			out, code := r.check(t, checkFlags(h)...)
			block := callerLines(out, name)
			for _, want := range []string{fmt.Sprintf("%-9s DOES NOT FIT", name), "but Domino Backup is not set up",
				"=> a freeze by " + name + " is refused at once, leaving everything running: " + name + " kills its hook after 1m0s and a clean stop needs 1m8s"} {
				if !strings.Contains(block, want) {
					t.Fatalf("check lacks %q:\n%s", want, out)
				}
			}
			if code != 1 {
				t.Fatalf("check exit %d, want 1", code)
			}
			// Where quiesce's hook for the caller is not installed, the
			// caller is shown but not counted: a guest elsewhere does not
			// fail check because a cloud's limit cannot hold its stop.
			out, code = r.check(t)
			if want := fmt.Sprintf("%-9s stop does not fit (no %s hook installed here: not counted in check's result)", name, name); !strings.Contains(out, want) || code != 0 {
				t.Fatalf("check without %s's hook: exit %d, lacks %q:\n%s", name, code, want, out)
			}
			before := r.sim.Procs()
			tr := &transcript{}
			f := h.Freeze(t)
			tr.step(f)
			wantCode := map[string]int{"nutanix": 1, "gcp": 124}[name]
			if f.OK || f.Code != wantCode || strings.Contains(f.Note, "killed") {
				t.Fatalf("freeze: %+v", f)
			}
			if lines := strings.Split(strings.TrimSpace(f.Stderr), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "freeze refused, nothing stopped") || f.Stdout != "" {
				t.Fatalf("want one line on stderr: %+v", f)
			}
			if after := r.sim.Procs(); !slices.Equal(before, after) {
				t.Fatalf("a refused freeze touched the server: %v -> %v", before, after)
			}
			serving(t, r, tr, true)
			th := h.Thaw(t)
			tr.step(th)
			mustOK(t, th)
			serving(t, r, tr, true)
			tr.golden(t, name, "limit-refused")
		})
	}
}

// The caller's limit is shorter than quiesce was told ([budgets] set to
// 60 s, the agent kills at 2 s): the hook is killed half-way through
// Domino's shutdown. The watchdog the freeze armed first brings the
// server back once it is down, and clears the freeze.
func TestCloudHookKilledAtLimitLeavesNothingDown(t *testing.T) {
	simtest.Slow(t)
	for _, name := range hardCallers {
		t.Run(name, func(t *testing.T) {
			r := newRigWith(t, simtest.Options{ShutdownSeconds: 3}, "fail",
				"shutdown_timeout = 10s\nkill_wait = 2s\nstart_timeout = 20s\n", fmt.Sprintf("\n[budgets]\n%s = 60s\n", name))
			h := harnessNamed(t, name)(t, r)
			switch h := h.(type) {
			case *gcpHarness:
				h.setTimeout(t, 2*time.Second)
			case *nutanixHarness:
				h.limit = 2 * time.Second
			}
			r.startServer(t)
			began := time.Now()
			f := h.Freeze(t)
			if f.OK || !strings.Contains(f.Note, "killed at the limit of 2s") {
				t.Fatalf("freeze not killed at the limit: %+v", f)
			}
			if name == "gcp" && f.Code != 124 {
				t.Fatalf("the agent reports %d, want 124", f.Code)
			}
			if _, ok := timeline.Last(r.sim.Timeline(), timeline.ShutdownRequested, began); !ok {
				t.Fatal("the kill did not land inside the stop: no shutdown was requested")
			}
			waitServing(t, r, 40*time.Second)
			record := r.record(r.stateDir(t))
			simtest.Eventually(t, 20*time.Second, "freeze record cleared", func() bool {
				_, err := os.Stat(record)
				return os.IsNotExist(err)
			})
			if !strings.Contains(r.log(t), "watchdog") {
				t.Fatalf("the log does not say who brought the server back:\n%s", r.log(t))
			}
			mustOK(t, h.Thaw(t)) // the caller's post script after all: nothing to do
			waitServing(t, r, time.Second)
		})
	}
}

// stateDir is the rig's state directory, from its configuration.
func (r *rig) stateDir(t *testing.T) string {
	t.Helper()
	for _, kv := range r.env {
		if cfg, ok := strings.CutPrefix(kv, "QUIESCE_CONFIG="); ok {
			return filepath.Join(filepath.Dir(cfg), "state")
		}
	}
	t.Fatal("no configuration")
	return ""
}
