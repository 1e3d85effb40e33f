package gcp

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
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
			a.Enabled, _ = parseBool(v)
		case "timeout_in_seconds":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 || int64(n) > maxSeconds {
				return a, fmt.Errorf("%s: [Snapshots] timeout_in_seconds = %q is not a number of seconds", path, v)
			}
			a.Timeout = time.Duration(n) * time.Second
		}
	}
	return a, nil
}

// maxSeconds is the most seconds a time.Duration holds.
const maxSeconds = math.MaxInt64 / int64(time.Second)

// The agent reads its configuration with go-ini (google_guest_agent/cfg:
// LoadOptions{Loose: true, Insensitive: true}, default parser options),
// and so does quiesce, for what it uses: a UTF-8 byte order mark is
// skipped; a line starting with # or ; is a comment; "[NAME]" starts a
// section, NAME up to the last "]" (what follows is a comment); a key ends
// at the first = or :; its value ends at the first # or ; (an inline
// comment) and loses the quotes around it; section and key names are
// case-insensitive; a key set twice, in a section given twice, has its
// last value.

type iniKind int

const (
	iniOther   iniKind = iota // blank, comment, or a line go-ini refuses
	iniSection                // [NAME]: name
	iniKey                    // NAME = VALUE: name, value
)

// iniLine reads line n (0-based) of the file as go-ini does; names are
// in lower case.
func iniLine(n int, raw string) (kind iniKind, name, value string) {
	if n == 0 {
		raw = strings.TrimPrefix(raw, "\ufeff")
	}
	l := strings.TrimLeftFunc(raw, unicode.IsSpace)
	switch {
	case l == "" || l[0] == '#' || l[0] == ';':
		return iniOther, "", ""
	case l[0] == '[':
		end := strings.LastIndexByte(l, ']')
		if end < 0 {
			return iniOther, "", "" // go-ini refuses the whole file
		}
		return iniSection, strings.ToLower(l[1:end]), ""
	}
	i := strings.IndexAny(l, "=:")
	if i < 0 {
		return iniOther, "", "" // go-ini refuses the whole file
	}
	return iniKey, strings.ToLower(strings.TrimSpace(l[:i])), iniValue(l[i+1:])
}

// iniValue is a value as go-ini reads it: trimmed, cut at an inline
// comment, without the quotes around it.
func iniValue(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexAny(v, "#;"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	for _, q := range []string{`"`, "'"} {
		if len(v) >= 2 && strings.HasPrefix(v, q) && strings.HasSuffix(v, q) && strings.Count(v, q) == 2 {
			return v[1 : len(v)-1]
		}
	}
	return v
}

// parseBool reads a boolean as go-ini does.
func parseBool(v string) (value, ok bool) {
	switch v {
	case "1", "t", "T", "true", "TRUE", "True", "YES", "yes", "Yes", "y", "ON", "on", "On":
		return true, true
	case "0", "f", "F", "false", "FALSE", "False", "NO", "no", "No", "n", "OFF", "off", "Off":
		return false, true
	}
	return false, false
}

// snapshots returns the keys of the [Snapshots] section (lower case).
func snapshots(b []byte) map[string]string {
	out := map[string]string{}
	in := false
	for n, raw := range strings.Split(string(b), "\n") {
		switch kind, name, v := iniLine(n, raw); {
		case kind == iniSection:
			in = name == "snapshots"
		case kind == iniKey && in:
			out[name] = v
		}
	}
	return out
}

// Enable returns the agent's configuration with [Snapshots] enabled =
// true, everything else kept as it was: every enabled key of the section
// is changed in place, or the key is added to the section, or the
// section is added at the end.
func Enable(b []byte) []byte {
	lines := strings.SplitAfter(string(b), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	section, end := -1, len(lines) // the first [Snapshots]: its header, the line after it
	in, set := false, false
	for i, raw := range lines {
		kind, name, _ := iniLine(i, raw)
		switch {
		case kind == iniSection:
			if in && end == len(lines) && i > section {
				end = i
			}
			in = name == "snapshots"
			if in && section < 0 {
				section = i
			}
		case in && kind == iniKey && name == "enabled":
			lines[i], set = "enabled = true\n", true
		}
	}
	switch {
	case set:
		return []byte(strings.Join(lines, ""))
	case section < 0:
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
