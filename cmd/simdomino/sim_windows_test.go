package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// The simulator on Windows, under wine: a real service, real task
// processes under Domino's names, nsd.exe -kill, and verify.

func TestMain(m *testing.M) {
	os.Exit(simtest.Main(m)) // fails the run when the host's own quiesce files changed
}

// tool runs an installed Domino binary in the data directory.
func tool(t *testing.T, sim *simtest.Sim, exe string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(sim.Lotus, exe), args...)
	cmd.Dir = sim.Data
	out, _ := cmd.CombinedOutput()
	return cmd.ProcessState.ExitCode(), string(out)
}

func TestWindowsServiceRunsTasksUnderDominoNames(t *testing.T) {
	sim := simtest.New(t, simtest.Options{Tasks: "update,router,http", ShutdownSeconds: 0.3})
	simtest.ControlService(t, sim.Service, true)
	simtest.Eventually(t, 30*time.Second, "NRPC port accepting", sim.Serving)
	got := map[string]bool{}
	for _, p := range sim.Procs() {
		got[strings.ToLower(p.Name)] = true
	}
	for _, name := range []string{"nserver.exe", "nupdate.exe", "nrouter.exe", "nhttp.exe"} {
		if !got[name] {
			t.Errorf("no %s among %v", name, got)
		}
	}
	if code, out := tool(t, sim, "nserver.exe", "-c", "show tasks"); code != 0 || !strings.Contains(out, "router") {
		t.Fatalf("nserver -c \"show tasks\": %d %q", code, out)
	}
	var out strings.Builder
	if code := runVerify([]string{sim.Snapshot()}, &out, &out); code != 1 || !strings.Contains(out.String(), "INCONSISTENT") {
		t.Fatalf("verify of a running server's copy: %d %s", code, out.String())
	}
	simtest.ControlService(t, sim.Service, false)
	// The service reports STOPPED before its process has exited, on
	// Windows as under wine: the processes must be gone shortly after.
	simtest.Eventually(t, 30*time.Second, "no process left after the service stopped", func() bool {
		return len(sim.Procs()) == 0
	})
	out.Reset()
	cmd := exec.Command(sim.Bin, "verify", sim.Snapshot())
	b, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 0 || !strings.Contains(string(b), "consistent") {
		t.Fatalf("simdomino verify of a stopped server's copy: %s", b)
	}
}

func TestWindowsNsdKillKillsEveryProcess(t *testing.T) {
	sim := simtest.New(t, simtest.Options{Tasks: "update,router"})
	simtest.ControlService(t, sim.Service, true)
	simtest.Eventually(t, 30*time.Second, "NRPC port accepting", sim.Serving)
	if code, out := tool(t, sim, "nsd.exe", "-kill"); code != 0 || !strings.Contains(out, "killed 3") {
		t.Fatalf("nsd -kill: %d %q", code, out)
	}
	simtest.Eventually(t, 10*time.Second, "every Domino process gone", func() bool { return len(sim.Procs()) == 0 })
}
