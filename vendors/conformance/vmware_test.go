//go:build linux

package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/cmd/simdomino/timeline"
)

// recorder writes a script that logs its calls and fails freeze when fail.
func recorder(t *testing.T, dir, name, logFile string, fail bool) {
	t.Helper()
	body := "#!/bin/sh\necho \"" + name + " $1\" >> " + logFile + "\n"
	if fail {
		body += "[ \"$1\" = freeze ] && exit 1\n"
	}
	body += "exit 0\n"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
}

// A script after quiesce's fails its freeze: VMware Tools sends freezeFail
// to quiesce's hook, which must start the server again.
func TestVMwareFreezeFail(t *testing.T) {
	r := newRig(t, quick, "fail")
	h := harnesses[0].make(t, r).(*vmwareHarness)
	calls := filepath.Join(t.TempDir(), "calls")
	recorder(t, h.dir, "10-first", calls, false)
	recorder(t, h.dir, "90-fails", calls, true)
	r.startServer(t)
	tr := &transcript{}
	f := h.Freeze(t)
	tr.step(f)
	if f.OK || !strings.Contains(f.Note, "freezeFail -> 50-quiesce: 0") {
		t.Fatalf("freeze: %+v", f)
	}
	serving(t, r, tr, true)
	b, _ := os.ReadFile(calls)
	tr.add("script calls: %s", strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", ", "))
	if got := strings.TrimSpace(string(b)); got != "10-first freeze\n90-fails freeze\n10-first freezeFail" {
		t.Fatalf("calls: %q", got)
	}
	tr.golden(t, "vmware", "freezeFail")
}

// Freeze runs in byte order, thaw in reverse: quiesce's 50- hook sits
// between scripts numbered before and after it.
func TestVMwareOrder(t *testing.T) {
	r := newRig(t, quick, "fail")
	h := harnesses[0].make(t, r).(*vmwareHarness)
	calls := filepath.Join(t.TempDir(), "calls")
	recorder(t, h.dir, "10-first", calls, false)
	recorder(t, h.dir, "90-last", calls, false)
	r.startServer(t)
	mustOK(t, h.Freeze(t))
	mustOK(t, h.Thaw(t))
	b, _ := os.ReadFile(calls)
	if got := strings.TrimSpace(string(b)); got != "10-first freeze\n90-last freeze\n90-last thaw\n10-first thaw" {
		t.Fatalf("calls: %q", got)
	}
	st, err := os.Stat(filepath.Join(h.dir, hookFileName))
	if err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o755 {
		t.Fatalf("hook file: %v %v", st.Mode(), err)
	}
}

// The whole operation has one timer: at its end VMware Tools sends
// SIGTERM, and SIGKILL 5 s later. A freeze cut short while Domino is still
// shutting down leaves a watchdog that starts it again once it is down.
func TestVMwareTimeoutRestores(t *testing.T) {
	simtest.Slow(t)
	r := newRigTimeout(t, simtest.Options{ShutdownSeconds: 3}, "fail", "60s")
	h := harnesses[0].make(t, r).(*vmwareHarness)
	h.budget = time.Second
	r.startServer(t)
	began := time.Now()
	f := h.Freeze(t)
	if f.OK {
		t.Fatalf("a freeze cut short by the caller's timeout succeeded: %+v", f)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, ok := timeline.Last(r.sim.Timeline(), timeline.Exited, began); ok {
			break // the shutdown quiesce started has finished
		}
		if time.Now().After(deadline) {
			t.Fatal("the server never finished its shutdown")
		}
	}
	waitServing(t, r, 30*time.Second)
	if !strings.Contains(r.log(t), "watchdog") {
		t.Fatal("the log does not say who brought the server back")
	}
}

// waitServing polls until the server serves again, or fails at the limit.
func waitServing(t *testing.T, r *rig, limit time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(limit); !r.sim.Serving(); {
		if time.Now().After(deadline) {
			t.Fatalf("server not serving %s after the failed freeze; processes: %v", limit, r.sim.Procs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
