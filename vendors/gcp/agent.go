package gcp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"
)

// AgentConfig is the guest agent's configuration file; its [Snapshots]
// section enables the scripts and sets their timeout.
const AgentConfig = "/etc/default/instance_configs.cfg"

// Agent is what the agent's configuration says about snapshot scripts.
type Agent struct {
	Exists  bool          // the file exists
	Enabled bool          // [Snapshots] enabled = true
	Timeout time.Duration // [Snapshots] timeout_in_seconds; DefaultTimeout when unset
}

// ReadAgent reads the agent's [Snapshots] settings from path; a missing
// file is the agent's defaults (scripts disabled, 60 s).
func ReadAgent(path string) (Agent, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Agent{Timeout: DefaultTimeout}, nil
	}
	if err != nil {
		return Agent{Timeout: DefaultTimeout}, err
	}
	return ParseAgent(path, b)
}

// ParseAgent reads the [Snapshots] settings of b, the agent's
// configuration file at path (named in errors).
func ParseAgent(path string, b []byte) (Agent, error) {
	a := Agent{Exists: true, Timeout: DefaultTimeout}
	for key, v := range snapshots(b) {
		switch key {
		case "enabled":
			a.Enabled, _ = strconv.ParseBool(v)
		case "timeout_in_seconds":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return a, fmt.Errorf("%s: [Snapshots] timeout_in_seconds = %q is not a number of seconds", path, v)
			}
			a.Timeout = time.Duration(n) * time.Second
		}
	}
	return a, nil
}

// snapshots returns the keys of the [Snapshots] section (lower case).
func snapshots(b []byte) map[string]string {
	out := map[string]string{}
	in := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "" || l[0] == '#' || l[0] == ';':
		case strings.HasPrefix(l, "["):
			in = strings.EqualFold(strings.Trim(l, "[] "), "Snapshots")
		case in:
			if k, v, ok := strings.Cut(l, "="); ok {
				out[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
			}
		}
	}
	return out
}

// Enable returns the agent's configuration with [Snapshots] enabled =
// true, everything else kept as it was: the key is changed in place, or
// added to the section, or the section is added at the end.
func Enable(b []byte) []byte {
	lines := strings.SplitAfter(string(b), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	section, end := -1, len(lines)
	for i, raw := range lines {
		l := strings.TrimSpace(raw)
		if strings.HasPrefix(l, "[") {
			if section >= 0 {
				end = i
				break
			}
			if strings.EqualFold(strings.Trim(l, "[] "), "Snapshots") {
				section = i
			}
			continue
		}
		if section >= 0 {
			if k, _, ok := strings.Cut(l, "="); ok && strings.EqualFold(strings.TrimSpace(k), "enabled") && !strings.HasPrefix(l, "#") {
				lines[i] = "enabled = true\n"
				return []byte(strings.Join(lines, ""))
			}
		}
	}
	if section < 0 {
		out := strings.Join(lines, "")
		if out != "" && !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		if out != "" {
			out += "\n"
		}
		return []byte(out + "[Snapshots]\nenabled = true\n")
	}
	if end > 0 && !strings.HasSuffix(lines[end-1], "\n") {
		lines[end-1] += "\n"
	}
	out := append(append(append([]string{}, lines[:end]...), "enabled = true\n"), lines[end:]...)
	return []byte(strings.Join(out, ""))
}
