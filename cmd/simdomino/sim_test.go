//go:build linux

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/nrpcwatch"
	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/cmd/simdomino/timeline"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/proc"
	"github.com/quiesce/quiesce/core/runas"
)

func TestMain(m *testing.M) {
	os.Exit(simtest.Main(m)) // fails the run when the host's own quiesce files changed
}

// asUser runs an installed tool as the simulator's user in its data dir.
func asUser(t *testing.T, sim *simtest.Sim, tool string, args ...string) (int, string) {
	t.Helper()
	acct, err := runas.Lookup(sim.User)
	if err != nil {
		t.Fatal(err)
	}
	cmd := runas.Command(acct, sim.Data, filepath.Join(sim.Lotus, "bin", tool), args...)
	out, _ := cmd.CombinedOutput()
	return cmd.ProcessState.ExitCode(), string(out)
}

func startSim(t *testing.T, o simtest.Options) *simtest.Sim {
	t.Helper()
	sim := simtest.New(t, o)
	srv, err := domino.New(sim.Config(5*time.Second), domino.Deps{Source: proc.NewSystem()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return sim
}

func TestProcessesCarryDominoNames(t *testing.T) {
	sim := startSim(t, simtest.Options{Tasks: "update,router"})
	got := map[string]string{}
	for _, p := range sim.Procs() {
		got[p.Name] = p.Exe
	}
	for _, name := range []string{"server", "update", "router"} {
		if got[name] != filepath.Join(sim.Lotus, "notes/latest/linux", name) {
			t.Errorf("%s runs as %q", name, got[name])
		}
	}
	pidnbf, err := os.ReadFile(filepath.Join(sim.Data, "pid.nbf"))
	if err != nil || strings.Count(string(pidnbf), "\n") != 3 {
		t.Fatalf("pid.nbf: %q %v", pidnbf, err)
	}
	if _, err := os.Stat(filepath.Join(sim.Data, "~notes.lck")); err != nil {
		t.Fatal("no ~notes.lck while running")
	}
}

func TestConsoleCommands(t *testing.T) {
	sim := startSim(t, simtest.Options{Tasks: "update,router"})
	code, out := asUser(t, sim, "server", "-c", "show tasks")
	if code != 0 || !strings.Contains(out, "router") || !strings.Contains(out, "SimServer/SimOrg") {
		t.Fatalf("show tasks: %d %q", code, out)
	}
	if code, out := asUser(t, sim, "server", "-c", "frobnicate"); code != 0 || !strings.Contains(out, "Unknown command") {
		t.Fatalf("unknown command: %d %q", code, out)
	}
}

func TestSecondServerRefused(t *testing.T) {
	sim := startSim(t, simtest.Options{})
	before := len(sim.Procs())
	code, out := asUser(t, sim, "server")
	if code == 0 || before != len(sim.Procs()) {
		t.Fatalf("second server on the same data: exit %d, %d -> %d processes: %s", code, before, len(sim.Procs()), out)
	}
	console, _ := os.ReadFile(filepath.Join(sim.Data, consoleLog))
	if !strings.Contains(string(console), "Server already running on data directory") {
		t.Fatalf("console does not say why: %s", console)
	}
}

func TestServerRefusesRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	sim := simtest.New(t, simtest.Options{})
	cmd := exec.Command(filepath.Join(sim.Lotus, "bin", "server"))
	cmd.Dir = sim.Data
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() == 0 || !strings.Contains(string(out), "cannot be started as root") || len(sim.Procs()) != 0 {
		t.Fatalf("root start: %s", out)
	}
}

func TestClientWithoutServer(t *testing.T) {
	sim := simtest.New(t, simtest.Options{})
	if code, out := asUser(t, sim, "server", "-q"); code == 0 || !strings.Contains(out, "no server is running") {
		t.Fatalf("server -q with no server: %d %q", code, out)
	}
}

func TestVerifyCommand(t *testing.T) {
	sim := startSim(t, simtest.Options{})
	snap := sim.Snapshot()
	var out strings.Builder
	if code := runVerify([]string{snap}, &out, &out); code != 1 || !strings.Contains(out.String(), "INCONSISTENT") {
		t.Fatalf("snapshot of a running server: %d %s", code, out.String())
	}
	out.Reset()
	if code := runVerify([]string{t.TempDir()}, &out, &out); code != 1 {
		t.Fatalf("empty dir passed: %s", out.String())
	}
}

func TestInstallRejectsRootUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	var out strings.Builder
	code := runInstall(simtest.Binary(t, "simdomino"), []string{"--root", t.TempDir(), "--user", "root"}, &out, &out)
	if code != 1 || !strings.Contains(out.String(), "refuses to run as root") {
		t.Fatalf("%d %s", code, out.String())
	}
}

// The cluster's console commands: Server_Restricted turns new opens to
// the mates (the failover client goes to the other server, none is
// lost), a replicate is in the timeline with the mate's name as typed.
func TestClusterConsole(t *testing.T) {
	a := startSim(t, simtest.Options{Tasks: "update"})
	b := startSim(t, simtest.Options{Tasks: "update"})
	client := nrpcwatch.StartCluster([]int{a.Port, b.Port})
	simtest.Eventually(t, 5*time.Second, "the client opens on A", func() bool { return a.Serving() })
	time.Sleep(200 * time.Millisecond)
	if code, out := asUser(t, a, "server", "-c", "set config server_restricted=1"); code != 0 || !strings.Contains(out, "Server_Restricted set to 1") {
		t.Fatalf("set config: %d %q", code, out)
	}
	if code, out := asUser(t, a, "server", "-c", "show config server_restricted"); code != 0 || out != "SERVER_RESTRICTED=1\n" {
		t.Fatalf("show config: %d %q", code, out)
	}
	time.Sleep(300 * time.Millisecond)
	before := client.End()
	client = nrpcwatch.StartCluster([]int{a.Port, b.Port})
	time.Sleep(300 * time.Millisecond)
	n := client.End()
	if n.Failed != 0 || n.OK == 0 || n.Served[0] != 0 || n.Served[1] != n.OK {
		t.Errorf("with A restricted: %+v: want every open on B", n)
	}
	if before.Served[0] == 0 {
		t.Errorf("before the restriction A served nothing (%+v)", before)
	}
	if code, out := asUser(t, a, "server", "-c", `replicate "Mail 2/Acme" names.nsf`); code != 0 || !strings.Contains(out, "Starting replication with server Mail 2/Acme") {
		t.Fatalf("replicate: %d %q", code, out)
	}
	if code, out := asUser(t, a, "server", "-c", "set config server_restricted=0"); code != 0 || !strings.Contains(out, "set to 0") {
		t.Fatalf("set config: %d %q", code, out)
	}
	var got []string
	for _, ev := range a.Timeline() {
		if ev.Name == timeline.Restricted || ev.Name == timeline.Replicate {
			got = append(got, ev.Name+" "+ev.Detail)
		}
	}
	if want := "restricted 1,replicate Mail 2/Acme,restricted 0"; strings.Join(got, ",") != want {
		t.Errorf("timeline %q, want %q", strings.Join(got, ","), want)
	}
	if code, out := asUser(t, a, "server", "-c", "set config server_restricted=7"); code != 0 || !strings.Contains(out, "Invalid value") {
		t.Errorf("a bad value: %d %q", code, out)
	}
}
