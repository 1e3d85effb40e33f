//go:build linux

package conformance

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// status runs quiesce status and returns the line about the last start a
// thaw handed to the watchdog ("" when there is none).
func (r *rig) startNote(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(r.bin, "status")
	cmd.Env = append(os.Environ(), r.env...)
	out, _ := cmd.Output() // exit 0 running, 3 stopped: both fine here
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "last start after a thaw") {
			return l
		}
	}
	return ""
}

// waitNote polls status until the note has the outcome, or fails.
func waitNote(t *testing.T, r *rig, outcome string, limit time.Duration) string {
	t.Helper()
	for deadline := time.Now().Add(limit); ; time.Sleep(100 * time.Millisecond) {
		if n := r.startNote(t); strings.Contains(n, "("+outcome+")") {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never showed %q; last: %q\n%s", outcome, r.startNote(t), r.log(t))
		}
	}
}

// Proxmox VE before the 3-minute thaw timeout gave a thaw 10 s. A Domino
// that needs 16 s to serve: the real qemu-ga's thaw answers within the
// 10 s, the server is launched, the detached watchdog proves it serves,
// and status and the log say so.
func TestQemuThawWithinTenSeconds(t *testing.T) {
	simtest.Slow(t)
	r := newRigWith(t, simtest.Options{ShutdownSeconds: 0.2, StartSeconds: 0.2}, "fail",
		"shutdown_timeout = 10s\nkill_wait = 2s\nstart_timeout = 60s\n", "\n[budgets]\nqemu_thaw = 10s\n")
	h := harnesses[3].make(t, r).(*qemuHarness)
	h.thawLimit = 10 * time.Second // Proxmox VE gives up after that
	r.startServer(t)
	r.sim.SetIni("SimStartSeconds", "16") // the next start is slow
	tr := &transcript{}
	f := h.Freeze(t)
	tr.step(f)
	mustOK(t, f)
	snapshot(t, r, tr, true)
	began := time.Now()
	th := h.Thaw(t)
	took := time.Since(began)
	tr.step(th)
	mustOK(t, th)
	if took > 10*time.Second {
		t.Fatalf("the thaw took %s, beyond Proxmox VE's 10 s", took)
	}
	tr.add("thaw answered within Proxmox VE's 10 s: true")
	serving(t, r, tr, false) // launched, still starting
	if procs := r.sim.Procs(); len(procs) == 0 {
		t.Fatal("the thaw answered but launched nothing")
	}
	tr.add("status: %s", waitNote(t, r, "pending", time.Second))
	waitServing(t, r, 40*time.Second)
	tr.add("status: %s", waitNote(t, r, "serving", 20*time.Second))
	log := r.log(t)
	for _, want := range []string{"thaw limit reached", `"outcome":"launched"`, "the start a thaw handed over serves"} {
		if !strings.Contains(log, want) {
			t.Fatalf("the log lacks %q:\n%s", want, log)
		}
	}
	tr.golden(t, "qemu", "thaw-limit-10s")
}

// VMware's one timer covers freeze, snapshot and thaw. The plan kept the
// thaw's share free when it cut the graceful wait; when the snapshot then
// takes far longer than its estimate, the thaw waits only for what is
// left of the timer: it answers before VMware's SIGTERM although Domino
// needs 16 s to serve, and the watchdog proves it serves. (Waiting until
// it serves would have run past the timer, and VMware would have killed
// the thaw.)
func TestVMwareOneTimerLeavesTheThawItsTime(t *testing.T) {
	simtest.Slow(t)
	r := newRigWith(t, simtest.Options{ShutdownSeconds: 0.5, StartSeconds: 0.2}, "fail",
		"shutdown_timeout = 120s\nkill_wait = 1s\nstart_timeout = 60s\n",
		"\n[budgets]\nvmware = 55s\nvmware_snapshot = 2s\nvmware_thaw = 6s\n")
	h := harnesses[0].make(t, r).(*vmwareHarness)
	h.budget = 55 * time.Second
	r.startServer(t)
	r.sim.SetIni("SimStartSeconds", "16")
	tr := &transcript{}
	cmd := exec.Command(r.bin, "check", "--all") // exit 1: 4 s of graceful wait is below what a clean stop needs
	cmd.Env = append(os.Environ(), r.env...)
	b, _ := cmd.Output()
	if out := string(b); !strings.Contains(out, "freeze    worst 17s (graceful wait 13s, escalation 4s)") || !strings.Contains(out, "thaw      worst 4s of the 6s kept for it") {
		t.Fatalf("check:\n%s", out)
	}
	f := h.Freeze(t)
	tr.step(f)
	mustOK(t, f)
	snapshot(t, r, tr, true)
	time.Sleep(time.Until(h.timer.Add(-13 * time.Second))) // the snapshot takes far longer than estimated
	th := h.Thaw(t)
	tr.step(th)
	mustOK(t, th) // no timer expiry, no SIGTERM
	if !strings.Contains(th.Stdout, "thaw OK: domino "+r.sim.Data+" launched, not serving yet") {
		t.Fatalf("thaw: %+v", th)
	}
	serving(t, r, tr, false)
	waitServing(t, r, 40*time.Second)
	tr.add("status: %s", waitNote(t, r, "serving", 20*time.Second))
	tr.golden(t, "vmware", "one-timer")
}

// An Arcserve UDP restore job (restore.bmr, restore.file) runs the same
// scripts but takes no snapshot: every stage ends as "nothing to do" with
// exit 0, the server is never touched, and the log says why.
func TestArcserveRestoreJobStopsNothing(t *testing.T) {
	for _, jobType := range []string{"restore.bmr", "restore.file"} {
		t.Run(jobType, func(t *testing.T) {
			r := newRig(t, quick, "fail")
			h := harnesses[2].make(t, r).(*arcserveHarness)
			h.jobType = jobType
			r.startServer(t)
			before := r.sim.Procs()
			tr := &transcript{}
			f := h.Freeze(t)
			tr.step(f)
			mustOK(t, f)
			serving(t, r, tr, true)
			th := h.Thaw(t)
			tr.step(th)
			mustOK(t, th)
			if after := r.sim.Procs(); !slices.Equal(before, after) {
				t.Fatalf("a restore job touched the server: %v -> %v", before, after)
			}
			serving(t, r, tr, true)
			if n := strings.Count(r.log(t), `"outcome":"nothing-to-do"`); n != 3 || !strings.Contains(r.log(t), `"job_type":"`+jobType+`"`) {
				t.Fatalf("the log should say three times that there was nothing to do:\n%s", r.log(t))
			}
			tr.golden(t, "arcserve", jobType)
		})
	}
}
