//go:build linux

package conformance

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nutanixHarness plays Nutanix Guest Tools for an application-consistent
// snapshot of a Linux guest (docs/nutanix.md): it runs pre_freeze, then
// after the snapshot post_thaw, from its script folder, as root, with no
// arguments and no shell. It runs only a script owned by root with mode
// 0700. NGT documents no time limit; the harness kills a script at the
// limit quiesce assumes (60 s) with SIGKILL, as a context kill does. A
// non-zero pre_freeze fails the application-consistent snapshot.
type nutanixHarness struct {
	dir   string
	env   hookEnv
	limit time.Duration
}

func (h *nutanixHarness) Name() string { return "nutanix" }

func (h *nutanixHarness) run(t *testing.T, name, step string) Step {
	path := filepath.Join(h.dir, name)
	st, err := os.Stat(path)
	if err != nil {
		return Step{Name: step, Code: -1, Note: "NGT: " + name + " not installed"}
	}
	sys := st.Sys().(*syscall.Stat_t)
	if st.Mode().Perm() != 0o700 || sys.Uid != 0 {
		return Step{Name: step, Code: -1, Note: fmt.Sprintf("NGT refuses %s: mode %04o, uid %d", name, st.Mode().Perm(), sys.Uid)}
	}
	s := runKilledAt(t, h.env, "/", h.limit, path)
	s.Name = step
	s.OK = s.Code == 0
	if !s.OK && step == "freeze" {
		s.Note = strings.TrimPrefix(s.Note+"; application-consistent snapshot failed", "; ")
	}
	return s
}

func (h *nutanixHarness) Freeze(t *testing.T) Step { return h.run(t, "pre_freeze", "freeze") }
func (h *nutanixHarness) Thaw(t *testing.T) Step   { return h.run(t, "post_thaw", "thaw") }

// runKilledAt runs argv directly (no shell) and SIGKILLs it when limit
// has passed, as a Go agent's exec.CommandContext does; output is read to
// the end, so a child that kept the streams open would hold the caller.
func runKilledAt(t *testing.T, env hookEnv, dir string, limit time.Duration, argv ...string) Step {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	_ = cmd.Run()
	s := Step{Code: cmd.ProcessState.ExitCode(), Stdout: o.String(), Stderr: e.String()}
	if ctx.Err() != nil {
		s.Note = fmt.Sprintf("killed at the limit of %s", limit)
	}
	return s
}

func init() {
	harnesses = append(harnesses, struct {
		name string
		make func(t *testing.T, r *rig) Harness
	}{"nutanix", func(t *testing.T, r *rig) Harness {
		dir := filepath.Join(t.TempDir(), "sbin")
		out := r.quiesce(t, "install", "nutanix", "--dir", dir, "--binary", r.bin)
		if strings.Count(out, "installed: ") != 2 {
			t.Fatalf("install: %s", out)
		}
		return &nutanixHarness{dir: dir, env: r.env, limit: 60 * time.Second}
	}})
}
