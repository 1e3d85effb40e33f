package aws

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/vendors/hook"
)

// Document is an SSM command document (schema 2.2) with the parameters
// DLM passes (command: pre-script, post-script or dry-run; executionId)
// and one aws:runShellScript step.
type Document struct {
	SchemaVersion string               `json:"schemaVersion"`
	Description   string               `json:"description"`
	Parameters    map[string]Parameter `json:"parameters"`
	MainSteps     []Step               `json:"mainSteps"`
}

// Parameter is a document parameter.
type Parameter struct {
	Type           string   `json:"type"`
	Default        string   `json:"default,omitempty"`
	Description    string   `json:"description,omitempty"`
	AllowedValues  []string `json:"allowedValues,omitempty"`
	AllowedPattern string   `json:"allowedPattern,omitempty"`
}

// Step is a document step.
type Step struct {
	Action       string              `json:"action"`
	Name         string              `json:"name"`
	Description  string              `json:"description,omitempty"`
	Precondition map[string][]string `json:"precondition,omitempty"`
	Inputs       Inputs              `json:"inputs"`
}

// Inputs of an aws:runShellScript step: SSM Agent writes RunCommand into
// a script file, runs it with "sh -c FILE" in its own process group and
// kills the group (SIGKILL, exit 137) after TimeoutSeconds.
type Inputs struct {
	TimeoutSeconds int      `json:"timeoutSeconds"`
	RunCommand     []string `json:"runCommand"`
}

// Commands DLM sends, in the order its documentation lists them.
var Commands = []string{"pre-script", "post-script", DryRunWord}

// NewDocument is the document that runs quiesce (the binary with the
// global options opts) with DLM's command, timeout the policy's
// ExecutionTimeout.
func NewDocument(binary string, opts hook.Options, timeout time.Duration) Document {
	run := opts.CommandLine(binary, false) + " " + Name + " --execution-timeout=" + strconv.Itoa(int(timeout/time.Second))
	return Document{
		SchemaVersion: "2.2",
		Description:   "quiesce: application-consistent EBS snapshots with Amazon Data Lifecycle Manager pre and post scripts (" + hook.Marker + " aws)",
		Parameters: map[string]Parameter{
			"executionId": {Type: "String", Default: noExecutionID, Description: "(Required) Specifies the unique identifier associated with a pre and/or post execution",
				AllowedPattern: executionID.String()},
			"command": {Type: "String", Default: DryRunWord, Description: "(Required) Specifies whether pre-script and/or post-script should be executed.",
				AllowedValues: Commands},
		},
		MainSteps: []Step{{
			Action: "aws:runShellScript", Name: "run_pre_post_scripts",
			Description:  "quiesce: stop the applications (or put them in online backup mode) before the snapshot, start them after",
			Precondition: map[string][]string{"StringEquals": {"platformType", "Linux"}},
			Inputs: Inputs{TimeoutSeconds: int(timeout / time.Second), RunCommand: []string{
				"#!/bin/sh",
				"# " + hook.Marker + " aws: Amazon Data Lifecycle Manager runs it with command pre-script, post-script or dry-run.",
				"# Exit codes: 0 success; 201 pre-script failed (quiesce restored the applications first); 202 post-script failed; 1 wrong command.",
				"# dry-run changes nothing: it checks what quiesce needs on this instance (configuration, state, applications, permission).",
				"case '{{ command }}' in",
				"dry-run) exec " + run + " pre-script --dry-run ;;",
				"*) exec " + run + " --execution-id='{{ executionId }}' '{{ command }}' ;;",
				"esac",
			}},
		}},
	}
}

// Marshal is the document as JSON, as 'aws ssm create-document
// --document-format JSON' takes it.
func (d Document) Marshal() []byte {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		panic(err) // plain data
	}
	return append(b, '\n')
}

// ParseDocument reads a document.
func ParseDocument(b []byte) (Document, error) {
	var d Document
	err := json.Unmarshal(b, &d)
	return d, err
}

// Timeout is the step's timeout: the ExecutionTimeout the document was
// made for.
func (d Document) Timeout() (time.Duration, bool) {
	if len(d.MainSteps) == 0 || d.MainSteps[0].Inputs.TimeoutSeconds <= 0 || int64(d.MainSteps[0].Inputs.TimeoutSeconds) > maxSeconds {
		return 0, false
	}
	return time.Duration(d.MainSteps[0].Inputs.TimeoutSeconds) * time.Second, true
}

// maxSeconds is the most seconds a time.Duration holds: a step timeout
// beyond it would wrap around to a negative limit.
const maxSeconds = math.MaxInt64 / int64(time.Second)

// Script is the step's shell script with SSM's parameter interpolation
// done for command and executionId, refusing values outside the
// document's allowedValues and allowedPattern as SSM does.
func (d Document) Script(command, id string) (string, error) {
	p := d.Parameters["command"]
	ok := false
	for _, v := range p.AllowedValues {
		ok = ok || v == command
	}
	if !ok {
		return "", fmt.Errorf("command %q is not one of the document's allowedValues %v", command, p.AllowedValues)
	}
	if id == "" {
		id = d.Parameters["executionId"].Default
	}
	if !executionID.MatchString(id) {
		return "", fmt.Errorf("executionId %q does not match the document's allowedPattern", id)
	}
	if len(d.MainSteps) != 1 || d.MainSteps[0].Action != "aws:runShellScript" {
		return "", errors.New("the document has no single aws:runShellScript step")
	}
	s := strings.Join(d.MainSteps[0].Inputs.RunCommand, "\n") + "\n"
	s = strings.ReplaceAll(s, "{{ command }}", command)
	return strings.ReplaceAll(s, "{{ executionId }}", id), nil
}

// LimitsFrom are the limits of the document install aws wrote at path:
// its ExecutionTimeout for each script; Defaults when there is none.
func LimitsFrom(path string) hook.Limits {
	b, err := os.ReadFile(path)
	if err != nil || !bytes.Contains(b, []byte(hook.Marker)) {
		return Defaults
	}
	d, err := ParseDocument(b)
	if err != nil {
		return Defaults
	}
	t, ok := d.Timeout()
	if !ok {
		return Defaults
	}
	return hook.Limits{Budget: t, Limits: freeze.Limits{Thaw: t, Hard: true}}
}
