//go:build linux

package conformance

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quiesce/quiesce/vendors/gcp"
)

// gcpHarness plays google-guest-agent's snapshot handler
// (google_guest_agent/snapshot_handler.go): with [Snapshots] enabled =
// true it runs /etc/google/snapshots/pre.sh before a guest-flush snapshot
// and post.sh after it, directly (no shell), with one argument, the disk
// list, and kills a script at [Snapshots] timeout_in_seconds (default 60)
// through exec.CommandContext (SIGKILL). A script still running at the
// deadline is reported as exit code 124, "timed out"; any non-zero exit
// of pre.sh means no snapshot is created.
type gcpHarness struct {
	dir, config string
	env         hookEnv
	disks       string
}

func (h *gcpHarness) Name() string { return "gcp" }

func (h *gcpHarness) run(t *testing.T, name, step string) Step {
	a, err := gcp.ReadAgent(h.config)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Enabled {
		return Step{Name: step, Code: -1, Note: "agent: snapshot scripts disabled"}
	}
	path := filepath.Join(h.dir, name)
	if _, err := os.Stat(path); err != nil {
		return Step{Name: step, Code: -1, Note: "agent: SCRIPT_NOT_FOUND"}
	}
	s := runKilledAt(t, h.env, "/", a.Timeout, path, h.disks)
	if s.Note != "" {
		s.Code = 124 // by the agent's convention, whatever the killed script's status
	}
	s.Name, s.OK = step, s.Code == 0
	switch {
	case s.Code == 124:
		s.Note = strings.TrimPrefix(s.Note+"; agent: SCRIPT_TIMED_OUT", "; ")
	case s.Code != 0:
		s.Note = "agent: UNHANDLED_SCRIPT_ERROR"
	}
	if !s.OK && step == "freeze" {
		s.Note += "; no snapshot created"
	}
	return s
}

func (h *gcpHarness) Freeze(t *testing.T) Step { return h.run(t, "pre.sh", "freeze") }
func (h *gcpHarness) Thaw(t *testing.T) Step   { return h.run(t, "post.sh", "thaw") }

// setTimeout sets the agent's timeout_in_seconds.
func (h *gcpHarness) setTimeout(t *testing.T, d time.Duration) {
	t.Helper()
	body := "[Snapshots]\nenabled = true\ntimeout_in_seconds = " + strconv.Itoa(int(d.Seconds())) + "\n"
	if err := os.WriteFile(h.config, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func init() {
	harnesses = append(harnesses, struct {
		name string
		make func(t *testing.T, r *rig) Harness
	}{"gcp", func(t *testing.T, r *rig) Harness {
		root := t.TempDir()
		dir, cfg := filepath.Join(root, "etc/google/snapshots"), filepath.Join(root, "etc/default/instance_configs.cfg")
		if err := os.MkdirAll(filepath.Dir(cfg), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cfg, []byte("[Accounts]\ndeprovision_remove = false\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out := r.quiesce(t, "install", "gcp", "--dir", dir, "--agent-config", cfg, "--enable-agent", "--binary", r.bin)
		if strings.Count(out, "installed: ") != 2 || !strings.Contains(out, "set [Snapshots] enabled = true") {
			t.Fatalf("install: %s", out)
		}
		if b, _ := os.ReadFile(cfg); string(b) != "[Accounts]\ndeprovision_remove = false\n\n[Snapshots]\nenabled = true\n" {
			t.Fatalf("the agent's configuration after install:\n%s", b)
		}
		return &gcpHarness{dir: dir, config: cfg, env: r.env, disks: "persistent-disk-0,persistent-disk-1"}
	}})
}
