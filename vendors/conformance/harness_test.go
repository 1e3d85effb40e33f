//go:build linux

package conformance

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Step is one call of the caller into the hook, as the caller judged it.
type Step struct {
	Name   string
	Code   int
	Stdout string
	Stderr string
	OK     bool   // the caller's verdict
	Note   string // what the caller did besides (freezeFail sent, job rule applied, ...)
}

// Harness plays one caller.
type Harness interface {
	Name() string
	Freeze(t *testing.T) Step
	Thaw(t *testing.T) Step
}

// env is the environment the caller hands the hook: how the test points
// quiesce at the simulated server's configuration, state and log.
type hookEnv []string

// runHook runs argv with the caller's environment under a deadline:
// SIGTERM at the deadline, SIGKILL grace later (VMware's rule).
func runHook(t *testing.T, env hookEnv, dir string, deadline time.Time, grace time.Duration, argv ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		t.Fatalf("%v: %v", argv, err)
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(time.Until(deadline)):
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(grace):
				_ = cmd.Process.Kill()
			}
		}
	}()
	_ = cmd.Wait()
	close(done)
	return cmd.ProcessState.ExitCode(), o.String(), e.String()
}

// --- VMware Tools -------------------------------------------------------

// vmwareHarness runs every regular file of a backupScripts.d folder with
// bash -c '"<path>" <op>': freeze in byte order, stopping at the first
// failure and sending freezeFail to the scripts before it in reverse; thaw
// in reverse order. One timer covers the whole operation, freeze, snapshot
// and thaw: it starts with the freeze; at its end the running script gets
// SIGTERM (SIGKILL 5 s later) and the thaw scripts not yet run are skipped.
type vmwareHarness struct {
	dir    string
	env    hookEnv
	budget time.Duration
	frozen []string  // scripts that froze successfully, in order
	timer  time.Time // end of the current cycle's timer; zero: none running
}

func (h *vmwareHarness) Name() string { return "vmware" }

func (h *vmwareHarness) scripts(t *testing.T) []string {
	entries, err := os.ReadDir(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			out = append(out, filepath.Join(h.dir, e.Name()))
		}
	}
	sort.Strings(out) // strcmp order
	return out
}

func (h *vmwareHarness) call(t *testing.T, deadline time.Time, path, op string) (int, string, string) {
	return runHook(t, h.env, "/", deadline, 5*time.Second, "bash", "-c", fmt.Sprintf("%q %s", path, op))
}

func (h *vmwareHarness) Freeze(t *testing.T) Step {
	h.timer = time.Now().Add(h.budget)
	deadline := h.timer
	h.frozen = nil
	st := Step{Name: "freeze", OK: true}
	for _, s := range h.scripts(t) {
		code, out, errOut := h.call(t, deadline, s, "freeze")
		if filepath.Base(s) == hookFileName {
			st.Code, st.Stdout, st.Stderr = code, out, errOut
		}
		if code != 0 {
			st.OK = false
			st.Note = fmt.Sprintf("%s failed freeze with %d", filepath.Base(s), code)
			for i := len(h.frozen) - 1; i >= 0; i-- {
				c, o, e := h.call(t, deadline, h.frozen[i], "freezeFail")
				st.Note += fmt.Sprintf("; freezeFail -> %s: %d", filepath.Base(h.frozen[i]), c)
				if filepath.Base(h.frozen[i]) == hookFileName {
					st.Stdout, st.Stderr = st.Stdout+o, st.Stderr+e
				}
			}
			h.frozen = nil
			return st
		}
		h.frozen = append(h.frozen, s)
	}
	return st
}

func (h *vmwareHarness) Thaw(t *testing.T) Step {
	deadline := h.timer
	if deadline.IsZero() { // a thaw without a freeze: a timer of its own
		deadline = time.Now().Add(h.budget)
	}
	h.timer = time.Time{}
	st := Step{Name: "thaw", OK: true}
	list := h.scripts(t)
	for i := len(list) - 1; i >= 0; i-- {
		if time.Now().After(deadline) {
			st.OK, st.Note = false, "timer expired: thaw of "+filepath.Base(list[i])+" skipped"
			continue
		}
		code, out, errOut := h.call(t, deadline, list[i], "thaw")
		if filepath.Base(list[i]) == hookFileName {
			st.Code, st.Stdout, st.Stderr = code, out, errOut
		}
		if code != 0 {
			st.OK = false // a failing thaw script does not stop the others
		}
		if time.Now().After(deadline) {
			st.OK, st.Note = false, "timer expired during the thaw of "+filepath.Base(list[i])
		}
	}
	return st
}

// hookFileName is what quiesce install vmware writes.
const hookFileName = "50-quiesce"

// --- Veeam ---------------------------------------------------------------

// veeamHarness copies the uploaded script to a temporary directory and runs
// it with no arguments and a 600 s budget; a non-zero exit or any byte on
// stderr fails the job.
type veeamHarness struct {
	scripts map[string][]byte
	env     hookEnv
}

func (h *veeamHarness) Name() string { return "veeam" }

func (h *veeamHarness) run(t *testing.T, name, step string) Step {
	dir := t.TempDir()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, h.scripts[name], 0o755); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runHook(t, h.env, dir, time.Now().Add(600*time.Second), 0, path)
	return Step{Name: step, Code: code, Stdout: out, Stderr: errOut, OK: code == 0 && errOut == ""}
}

func (h *veeamHarness) Freeze(t *testing.T) Step { return h.run(t, "pre-freeze.sh", "freeze") }
func (h *veeamHarness) Thaw(t *testing.T) Step   { return h.run(t, "post-thaw.sh", "thaw") }

// --- Arcserve UDP ----------------------------------------------------------

// arcserveHarness runs the plan's commands with the UDP agent's D2D_*
// variables and applies the plan's rule "On exit code 0: Run Job, else
// Fail Job"; it shows the first line of D2D_PREPOST_OUTPUT as the activity
// log does. After the snapshot it runs post-snapshot, and post-backup in
// any case.
type arcserveHarness struct {
	bin     string
	env     hookEnv
	jobType string // D2D_JOBTYPE; "": backup.incremental
}

func (h *arcserveHarness) Name() string { return "arcserve" }

func (h *arcserveHarness) run(t *testing.T, op, step string) Step {
	out := filepath.Join(t.TempDir(), "prepost.out")
	jobType := h.jobType
	if jobType == "" {
		jobType = "backup.incremental"
	}
	env := append(append(hookEnv{}, h.env...), "D2D_JOBNAME=Backup_Domino", "D2D_JOBID=1234",
		"D2D_JOBTYPE="+jobType, "D2D_JOBSTAGE=pre-job-server", "D2D_PREPOST_OUTPUT="+out)
	code, o, e := runHook(t, env, "/", time.Now().Add(10*time.Minute), 0, h.bin, "arcserve", op)
	st := Step{Name: step, Code: code, Stdout: o, Stderr: e, OK: code == 0}
	if b, err := os.ReadFile(out); err == nil {
		st.Note = "activity log: " + strings.SplitN(string(b), "\n", 2)[0]
	}
	return st
}

func (h *arcserveHarness) Freeze(t *testing.T) Step { return h.run(t, "pre-snapshot", "freeze") }
func (h *arcserveHarness) Thaw(t *testing.T) Step {
	a := h.run(t, "post-snapshot", "thaw")
	b := h.run(t, "post-backup", "thaw")
	a.OK = a.OK && b.OK
	a.Stdout += b.Stdout
	a.Stderr += b.Stderr
	a.Note += " | " + b.Note
	return a
}

var _ = context.Background
