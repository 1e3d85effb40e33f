//go:build linux

package conformance

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quiesce/quiesce/vendors/aws"
)

// awsHarness plays Amazon Data Lifecycle Manager running a custom SSM
// command document through SSM Agent (aws/amazon-ssm-agent
// agent/plugins/runscript, agent/executers at 1c217c8) to the letter:
//   - DLM refuses a document whose command parameter lacks any of the
//     allowedValues pre-script, post-script and dry-run;
//   - SSM interpolates {{ command }} and {{ executionId }} after checking
//     them against allowedValues and allowedPattern, writes runCommand into
//     _script.sh in an orchestration folder and runs "sh -c _script.sh" as
//     root, with SSM_COMMAND_ID set, as the leader of its own process
//     group;
//   - at the step's timeoutSeconds, or when DLM gives up at the policy's
//     ExecutionTimeout (DLM cancelling the command is not documented;
//     cancelling and the step timeout both end the same way in SSM
//     Agent), SSM Agent kills the whole process group with SIGKILL and
//     reports exit 137;
//   - a pre-script that fails (any exit but 0, after MaximumRetryCount
//     retries of the whole run): ExecuteOperationOnScriptFailure true
//     takes a crash-consistent snapshot anyway, false skips the instance.
type awsHarness struct {
	doc        aws.Document
	env        hookEnv
	timeout    time.Duration // the policy's ExecutionTimeout
	onFailure  bool          // ExecuteOperationOnScriptFailure
	execution  string        // DLM's executionId for this run
	commandSeq int
}

func (h *awsHarness) Name() string { return "aws" }

func (h *awsHarness) check(t *testing.T) {
	t.Helper()
	for _, v := range aws.Commands {
		if !slices.Contains(h.doc.Parameters["command"].AllowedValues, v) {
			t.Fatalf("DLM treats a document without allowedValue %q as a failed execution: %+v", v, h.doc.Parameters["command"])
		}
	}
	if h.doc.SchemaVersion != "2.2" || len(h.doc.MainSteps) != 1 || h.doc.MainSteps[0].Action != "aws:runShellScript" {
		t.Fatalf("not a schema 2.2 command document with one aws:runShellScript step: %+v", h.doc)
	}
}

// send runs the document with command, as SSM Agent does, and returns the
// exit code it reports.
func (h *awsHarness) send(t *testing.T, command string) (code int, stdout, stderr string, killed bool) {
	t.Helper()
	script, err := h.doc.Script(command, h.execution)
	if err != nil {
		t.Fatalf("SSM rejects the parameters: %v", err)
	}
	h.commandSeq++
	dir := filepath.Join(t.TempDir(), fmt.Sprintf("orchestration-%d", h.commandSeq))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "_script.sh")
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	limit := time.Duration(h.doc.MainSteps[0].Inputs.TimeoutSeconds) * time.Second
	if h.timeout > 0 && h.timeout < limit {
		limit = h.timeout
	}
	cmd := exec.Command("sh", "-c", path)
	cmd.Env = append(append(hookEnv{}, h.env...), fmt.Sprintf("SSM_COMMAND_ID=%08d-0000-4000-8000-000000000000", h.commandSeq))
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
		return cmd.ProcessState.ExitCode(), o.String(), e.String(), false
	case <-time.After(limit):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the whole group
		<-done
		return 137, o.String(), e.String(), true
	}
}

func (h *awsHarness) step(t *testing.T, name, command string) Step {
	h.check(t)
	code, out, errOut, killed := h.send(t, command)
	st := Step{Name: name, Code: code, Stdout: out, Stderr: errOut, OK: code == 0}
	if killed {
		st.Note = fmt.Sprintf("SSM Agent killed the process group at the %s limit (exit 137)", h.limit())
	}
	if command == "pre-script" && !st.OK {
		what := "ExecuteOperationOnScriptFailure false: instance skipped, no snapshot"
		if h.onFailure {
			what = "ExecuteOperationOnScriptFailure true: crash-consistent snapshot"
		}
		st.Note = strings.TrimPrefix(st.Note+"; "+what, "; ")
	}
	return st
}

func (h *awsHarness) limit() time.Duration {
	limit := time.Duration(h.doc.MainSteps[0].Inputs.TimeoutSeconds) * time.Second
	if h.timeout > 0 && h.timeout < limit {
		return h.timeout
	}
	return limit
}

func (h *awsHarness) Freeze(t *testing.T) Step { return h.step(t, "freeze", "pre-script") }
func (h *awsHarness) Thaw(t *testing.T) Step   { return h.step(t, "thaw", "post-script") }

// newAWS installs the document for a policy script timeout of seconds and
// returns the harness as DLM would run it.
func newAWS(t *testing.T, r *rig, seconds int) *awsHarness {
	t.Helper()
	path := filepath.Join(t.TempDir(), "quiesce-dlm.json")
	out := r.quiesce(t, "install", "aws", "--document", path, "--execution-timeout", fmt.Sprint(seconds), "--binary", r.bin)
	if !strings.Contains(out, "checked: quiesce aws --dry-run: OK") {
		t.Fatalf("install aws: %s", out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, string(b)) {
		t.Fatalf("install aws did not print the document it wrote:\n%s", out)
	}
	doc, err := aws.ParseDocument(b)
	if err != nil {
		t.Fatal(err)
	}
	return &awsHarness{doc: doc, env: extensionEnv(), timeout: time.Duration(seconds) * time.Second, onFailure: true,
		execution: "3f2504e0-4f89-41d3-9a0c-0305e82c3301"}
}
