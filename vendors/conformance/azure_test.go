//go:build linux

package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// azureHarness plays the Azure VM backup extension's script plugin
// (Azure/azure-linux-extensions VMBackup/main, PluginHost.py and
// ScriptRunner.py at b7eecd4) to the letter:
//   - it reads VMSnapshotScriptPluginConfig.json and refuses, before any
//     script runs, a file with the owner's execute bit or any right for
//     group or others, or not owned by root; likewise each script with any
//     right for group or others, or not owned by root (the backup then goes
//     on file-system consistent, without scripts);
//   - it runs "sh SCRIPT PARAMS..." as root with its own environment
//     (nothing of ours), stdout and stderr into pipes;
//   - it looks at the script every ScriptsExecutionPollTimeSeconds (3 s,
//     1 to 5) and gives up after timeoutInSeconds (capped at 1800) worth
//     of polls: it stops waiting but does NOT kill the script, which runs
//     on;
//   - retries re-read the same finished process's exit code: they never
//     run the script again;
//   - a failed or timed-out pre-script: the snapshot is taken anyway when
//     continueBackupOnFailure is true, not at all when false;
//   - the post-script runs after every snapshot attempt, also after a
//     failed pre-script.
type azureHarness struct {
	config string
	env    hookEnv       // the extension's environment: none of the test's QUIESCE_* variables
	kill   bool          // the VM agent kills the script at the limit (not documented; the extension itself never does)
	limit  time.Duration // the plugin host's cap (VMSnapshotPluginHost.conf), when lower than the plugin's timeout
}

func (h *azureHarness) Name() string { return "azure" }

// plugin is the part of the plugin configuration the extension reads.
type plugin struct {
	Pre, Post              string
	PreParams, PostParams  []string
	Timeout                float64
	Continue               bool
	Poll                   int
	configErr, scriptError string
}

func (h *azureHarness) load(t *testing.T) plugin {
	t.Helper()
	p := plugin{Timeout: 10, Continue: true, Poll: 3}
	if why := azureRefuses(h.config, true); why != "" {
		p.configErr = why
		return p
	}
	b, err := os.ReadFile(h.config)
	if err != nil {
		p.configErr = err.Error()
		return p
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		p.configErr = "Error in decoding ScriptRunner config file: " + err.Error()
		return p
	}
	get := func(k string, v any) bool {
		raw, ok := m[k]
		return ok && json.Unmarshal(raw, v) == nil
	}
	if !get("preScriptLocation", &p.Pre) || !get("postScriptLocation", &p.Post) {
		p.configErr = "Error in fetching value for the key preScriptLocation/postScriptLocation"
		return p
	}
	var secs float64
	if get("timeoutInSeconds", &secs) {
		p.Timeout = min(secs, 1800)
	}
	get("preScriptParams", &p.PreParams)
	get("postScriptParams", &p.PostParams)
	get("continueBackupOnFailure", &p.Continue)
	var poll int
	if get("ScriptsExecutionPollTimeSeconds", &poll) && poll >= 1 && poll <= 5 {
		p.Poll = poll
	}
	for _, s := range []string{p.Pre, p.Post} {
		if why := azureRefuses(s, false); why != "" {
			p.scriptError = s + ": " + why
		}
	}
	return p
}

// azureRefuses applies the extension's checks of a file's owner and mode.
func azureRefuses(path string, config bool) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "does not exist"
	}
	perm := fi.Mode().Perm()
	switch {
	case perm&0o077 != 0:
		return fmt.Sprintf("permissions %o: group or others have access", perm)
	case config && perm&0o100 != 0:
		return fmt.Sprintf("permissions %o: executable", perm)
	case os.Geteuid() == 0 && fi.Sys().(*syscall.Stat_t).Uid != 0:
		return "owner is not root"
	}
	return ""
}

// run runs one script as ScriptRunner does and returns its exit code, or
// timedOut when the polls ran out first.
func (h *azureHarness) run(t *testing.T, p plugin, script string, params []string) (code int, out, errOut string, timedOut bool, took time.Duration) {
	t.Helper()
	cmd := exec.Command("sh", append([]string{script}, params...)...)
	cmd.Env = h.env
	cmd.Dir = "/"
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { // a script Azure gave up on runs on; the test reaps it
		select {
		case <-exited:
		case <-time.After(2 * time.Minute):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	poll := time.Duration(p.Poll) * time.Second
	total := p.Timeout / float64(p.Poll)
	for curr := 0; ; curr++ { // while process.poll() is None: if curr >= pollTotalCount: timeout; sleep(poll)
		select {
		case <-exited:
			return cmd.ProcessState.ExitCode(), o.String(), e.String(), false, time.Since(began)
		default:
		}
		if float64(curr) >= total {
			if h.kill {
				_ = cmd.Process.Signal(syscall.SIGKILL)
				<-exited
				return cmd.ProcessState.ExitCode(), o.String(), e.String(), true, time.Since(began)
			}
			return -1, "", "", true, time.Since(began) // its output stays in the pipe nobody reads
		}
		select {
		case <-exited:
		case <-time.After(poll):
		}
	}
}

func (h *azureHarness) step(t *testing.T, name string, pre bool) Step {
	p := h.load(t)
	st := Step{Name: name}
	if p.configErr != "" || p.scriptError != "" {
		st.Note = "plugin refused (" + p.configErr + p.scriptError + "): backup goes on file-system consistent without scripts"
		return st
	}
	script, params := p.Post, p.PostParams
	if pre {
		script, params = p.Pre, p.PreParams
	}
	if h.limit > 0 {
		p.Timeout = min(p.Timeout, h.limit.Seconds())
	}
	code, out, errOut, timedOut, _ := h.run(t, p, script, params)
	st.Code, st.Stdout, st.Stderr, st.OK = code, out, errOut, code == 0 && !timedOut
	switch {
	case timedOut && h.kill:
		st.Note = fmt.Sprintf("timed out after %gs: the script was killed", p.Timeout)
	case timedOut:
		st.Note = fmt.Sprintf("timed out after %gs: Azure stopped waiting, the script runs on", p.Timeout)
	}
	if pre && !st.OK {
		if p.Continue {
			st.Note = strings.TrimPrefix(st.Note+"; continueBackupOnFailure true: snapshot taken, file-system consistent only", "; ")
		} else {
			st.Note = strings.TrimPrefix(st.Note+"; continueBackupOnFailure false: no snapshot, backup failed", "; ")
		}
	}
	return st
}

func (h *azureHarness) Freeze(t *testing.T) Step { return h.step(t, "freeze", true) }
func (h *azureHarness) Thaw(t *testing.T) Step   { return h.step(t, "thaw", false) }

// extensionEnv is the environment the extension gives its scripts: the
// machine's, without the test's QUIESCE_* variables (the installed scripts
// carry the configuration themselves).
func extensionEnv() hookEnv {
	var env hookEnv
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "QUIESCE_") {
			env = append(env, kv)
		}
	}
	return env
}

// azureSample is Microsoft's sample plugin configuration as an
// administrator copies it to /etc/azure, polling every second.
const azureSample = `{
    "pluginName" : "ScriptRunner",
    "preScriptLocation" : "",
    "postScriptLocation" : "",
    "preScriptParams" : ["", ""],
    "postScriptParams" : ["", ""],
    "preScriptNoOfRetries" : 0,
    "postScriptNoOfRetries" : 0,
    "timeoutInSeconds" : 30,
    "continueBackupOnFailure" : true,
    "fsFreezeEnabled" : true,
    "ScriptsExecutionPollTimeSeconds" : 1
}
`

// newAzure installs quiesce into a copy of Microsoft's sample file (so
// install must merge) with timeoutInSeconds timeout, and returns the
// harness.
func newAzure(t *testing.T, r *rig, timeout int, extra ...string) *azureHarness {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "etc-azure")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "VMSnapshotScriptPluginConfig.json")
	if err := os.WriteFile(cfg, []byte(azureSample), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"install", "azure", "--plugin-config", cfg, "--dir", dir, "--binary", r.bin, "--merge", "--timeout", fmt.Sprint(timeout)}, extra...)
	if out := r.quiesce(t, args...); !strings.Contains(out, "merged into "+cfg) {
		t.Fatalf("install azure: %s", out)
	}
	return &azureHarness{config: cfg, env: extensionEnv()}
}
