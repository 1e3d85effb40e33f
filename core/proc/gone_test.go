package proc

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// WaitGoneFrom starts from a list made a moment ago, and still waits for
// a process started since: the scan after the first wave of exits finds it.
func TestWaitGoneFromFindsLaterProcesses(t *testing.T) {
	first, p, m := spawn(t, "server")
	exe := filepath.Join(m.Prefixes[0], "nsd"+exeSuffix)
	copyExe(t, first.Path, exe)
	later := exec.Command(exe)
	later.Env = append(os.Environ(), "PROC_TEST_SLEEP=60")
	if err := later.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = later.Process.Kill(); _ = later.Wait() })
	go func() { time.Sleep(50 * time.Millisecond); _ = first.Process.Kill() }()
	left, err := WaitGoneFrom(context.Background(), NewSystem(), m, []Proc{p}, time.Now().Add(2*time.Second))
	if err != nil || len(left) != 1 || left[0].PID != int32(later.Process.Pid) {
		t.Fatalf("left %v (%v), want the process started after the list", left, err)
	}
	_ = later.Process.Kill()
	if left, err := WaitGoneFrom(context.Background(), NewSystem(), m, left, time.Now().Add(time.Minute)); err != nil || len(left) != 0 {
		t.Fatalf("left %v (%v) after every process exited", left, err)
	}
}
