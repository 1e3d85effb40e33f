package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quiesce/quiesce/core/engine"
	"github.com/quiesce/quiesce/core/freeze"
)

// fenceMethod is a freeze method added the way a new one is: its own type
// (in its own package, for a real one) and one line in the registry. It
// "holds" an application by a fence file, and tells what the session
// asked of it.
type fenceMethod struct {
	fence string
	calls *[]string
}

func (m fenceMethod) Name() string { return "fence" }
func (m fenceMethod) Plan(c freeze.Caller) freeze.Plan {
	return freeze.Plan{Method: "fence", Budget: c.Budget, Worst: time.Second, ThawWorst: time.Second}
}
func (m fenceMethod) Check(context.Context, freeze.Caller) (freeze.Result, bool, error) {
	*m.calls = append(*m.calls, "check")
	return freeze.Result{}, true, nil
}
func (m fenceMethod) Deadline(*freeze.Run, freeze.Caller, time.Time) time.Time { return time.Time{} }
func (m fenceMethod) Enter(_ context.Context, r *freeze.Run, _ freeze.Caller) (freeze.Result, error) {
	*m.calls = append(*m.calls, "enter")
	r.SetData(map[string]string{"fence": m.fence})
	return freeze.Result{Outcome: freeze.BackupMode, Message: "fenced"}, os.WriteFile(m.fence, nil, 0o600)
}
func (m fenceMethod) Abort(_ context.Context, r *freeze.Run, _ freeze.Caller, cause error) (freeze.Result, error) {
	*m.calls = append(*m.calls, "abort")
	_ = os.Remove(m.fence)
	_ = r.Clear()
	return freeze.Result{}, &freeze.FreezeError{Cause: cause, NotStopped: true}
}
func (m fenceMethod) Leave(_ context.Context, r *freeze.Run, _ freeze.Bound) (freeze.Result, error) {
	*m.calls = append(*m.calls, "leave")
	return freeze.Result{Outcome: freeze.Released, Message: "unfenced"}, firstErr(os.Remove(m.fence), r.Clear())
}
func (m fenceMethod) Settle(_ context.Context, r *freeze.Run, why freeze.Why) (freeze.Result, error) {
	*m.calls = append(*m.calls, fmt.Sprintf("settle %d", why))
	return freeze.Result{Outcome: freeze.Released, Message: "unfenced by " + r.Who}, os.Remove(m.fence)
}
func (m fenceMethod) Holds(context.Context, *freeze.Run) error {
	if _, err := os.Stat(m.fence); err != nil {
		return fmt.Errorf("no fence: %w", err)
	}
	return nil
}
func (m fenceMethod) Describe(*freeze.Run) string { return "fenced" }
func (m fenceMethod) Late() (string, string)      { return "the fence was removed", "is not fenced" }

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// A freeze method is its own package and one registry line: with it
// registered for [target]s, a target configured with method = online is
// frozen, held, joined, thawed, shown in status and settled after its
// deadline by it, through the same session as every other method.
func TestRegistryLineIsAllANewMethodNeeds(t *testing.T) {
	dir := t.TempDir()
	fence := filepath.Join(dir, "fence")
	var calls []string
	methods := append(engine.Methods()[:0:0], engine.Spec{Name: "fence", Kinds: []string{"target"}, Online: true, New: func(engine.App, engine.Deps, freeze.Policy) (freeze.Method, error) {
		return fenceMethod{fence, &calls}, nil
	}})
	methods = append(methods, engine.Methods()...)
	cfg := filepath.Join(dir, "quiesce.conf")
	body := "[target app]\nmanager = systemd\nunit = app.service\nmethod = online\nprocess_path = " + dir + "\nready_tcp = 127.0.0.1:1\n\n[freeze]\nstate_dir = " + filepath.Join(dir, "state") + "\ndeadline = 2s\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	exec := func(args ...string) (int, string) {
		var out bytes.Buffer
		code := runMethods(append([]string{"quiesce", "--config", cfg, "--log-file", filepath.Join(dir, "q.log")}, args...),
			stdio{out: &out, err: &out}, adapters(), methods)
		return code, out.String()
	}
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"vmware", "freeze"}, "freeze OK: fenced"},
		{[]string{"nutanix", "freeze"}, "already fenced by vmware; nutanix joined"},
		{[]string{"status"}, "app is FROZEN by vmware"},
		{[]string{"vmware", "thaw"}, "vmware thawed; still fenced by nutanix"},
		{[]string{"nutanix", "thaw"}, "thaw OK: unfenced"},
		{[]string{"vmware", "freeze"}, "freeze OK: fenced"},
	}
	for _, s := range steps {
		code, out := exec(s.args...)
		if !strings.Contains(out, s.want) || (s.args[0] != "status" && code != 0) {
			t.Fatalf("%v: exit %d %s; want %q", s.args, code, out, s.want)
		}
	}
	if _, err := os.Stat(fence); err != nil {
		t.Fatal("the new method's freeze left no fence")
	}
	time.Sleep(2 * time.Second) // the freeze's fixed deadline
	if code, out := exec("recover"); code != 0 || !strings.Contains(out, "unfenced by recover") {
		t.Fatalf("recover after the deadline: exit %d %s", code, out)
	}
	if code, out := exec("vmware", "thaw"); code == 0 || !strings.Contains(out, "late thaw") || !strings.Contains(out, "the fence was removed") {
		t.Fatalf("late thaw: exit %d %s", code, out)
	}
	if got, want := strings.Join(calls, " "), "check enter leave check enter settle 1"; got != want {
		t.Fatalf("the session called %q of the new method, want %q", got, want)
	}
}
