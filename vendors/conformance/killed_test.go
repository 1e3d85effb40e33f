//go:build linux

package conformance

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/cmd/simdomino/timeline"
)

// Cycles 344 and 345 of the soak with seed 20261123, with real processes
// and the kills placed where they fell: Veeam's freeze is SIGKILLed as soon
// as it has recorded that it is stopping the server, VMware's freeze as
// soon as the server begins to shut down. Both callers see a failed
// freeze; the server must serve again within the soak's deadline + 5 s.
func TestKilledFreezeThenKilledFreezeRestores(t *testing.T) {
	simtest.Slow(t)
	r := newSoakRig(t)
	r.startServer(t)
	s := &soak{t: t, r: r}
	record := s.record()

	killWhen(t, r, func() bool {
		b, _ := os.ReadFile(record)
		return strings.Contains(string(b), `"phase": "entering"`)
	}, "veeam", "pre-freeze")
	shutdowns := func() int {
		evs, _ := timeline.Read(r.sim.Data)
		n := 0
		for _, e := range evs {
			if e.Name == timeline.ShutdownRequested {
				n++
			}
		}
		return n
	}
	before := shutdowns()
	killWhen(t, r, func() bool { return shutdowns() > before }, "vmware", "freeze")

	limit := time.Now().Add(soakDeadline + 5*time.Second)
	for !r.sim.Serving() || !s.mainServerUp() {
		if time.Now().After(limit) {
			b, _ := os.ReadFile(record)
			t.Fatalf("not serving %s after two killed freezes; record:\n%s\nlog:\n%s", soakDeadline+5*time.Second, b, r.log(t))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The watchdog that started it clears the record once it has seen
	// the server ready, which may be a moment after a client first gets
	// through: the record must be gone within the same deadline.
	for {
		b, err := os.ReadFile(record)
		if err != nil {
			return
		}
		if time.Now().After(limit) {
			t.Fatalf("serving, but a record is left %s after two killed freezes:\n%s\nlog:\n%s", soakDeadline+5*time.Second, b, r.log(t))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// killWhen runs quiesce with args and SIGKILLs it the moment cond holds
// (or when it ends by itself, which fails the test: the kill was meant
// to land inside it).
func killWhen(t *testing.T, r *rig, cond func() bool, args ...string) {
	t.Helper()
	cmd := exec.Command(r.bin, args...)
	cmd.Env = append(os.Environ(), r.env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	for !cond() {
		select {
		case <-done:
			t.Fatalf("quiesce %v ended before the kill point (exit %d)\n%s", args, cmd.ProcessState.ExitCode(), r.log(t))
		case <-time.After(time.Millisecond):
		}
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}
