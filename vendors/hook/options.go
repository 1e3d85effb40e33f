package hook

import (
	"bytes"
	"regexp"
	"strings"
)

// OptionsPlaceholder in shim templates stands for the global options the
// hook passes to quiesce (the configuration it was installed with), right
// after the binary: "@QUIESCE@"@OPTIONS@ CALLER ...
const OptionsPlaceholder = "@OPTIONS@"

// Options are the global options an installed hook passes to quiesce, so
// that it runs with the configuration it was installed and checked with.
// Empty fields are not passed.
type Options struct {
	Config   string // --config
	StateDir string // --state-dir
	LogFile  string // --log-file
}

// pairs lists the options that are set, in a fixed order.
func (o Options) pairs() [][2]string {
	var out [][2]string
	for _, p := range [][2]string{{"config", o.Config}, {"state-dir", o.StateDir}, {"log-file", o.LogFile}} {
		if p[1] != "" {
			out = append(out, p)
		}
	}
	return out
}

// Args are the options as command-line arguments.
func (o Options) Args() []string {
	var out []string
	for _, p := range o.pairs() {
		out = append(out, "--"+p[0]+"="+p[1])
	}
	return out
}

// shell renders the options for a POSIX shell: each --name='value'.
func (o Options) shell() string {
	var b strings.Builder
	for _, p := range o.pairs() {
		b.WriteString(" --" + p[0] + "='" + strings.ReplaceAll(p[1], "'", `'\''`) + "'")
	}
	return b.String()
}

// batch renders the options for a Windows batch file: each --name="value"
// (Windows paths cannot hold a double quote; % is doubled for cmd).
func (o Options) batch() string {
	var b strings.Builder
	for _, p := range o.pairs() {
		b.WriteString(" --" + p[0] + `="` + strings.ReplaceAll(p[1], "%", "%%") + `"`)
	}
	return b.String()
}

// isBatch tells a Windows batch template from a shell script.
func isBatch(tmpl []byte) bool {
	return bytes.HasPrefix(bytes.TrimSpace(bytes.ToLower(tmpl)), []byte("@echo off"))
}

var (
	shellOpt = regexp.MustCompile(`--(config|state-dir|log-file)='((?:[^']|'\\'')*)'`)
	batchOpt = regexp.MustCompile(`--(config|state-dir|log-file)="([^"]*)"`)
)

// ParseOptions reads back the options a hook file quiesce installed
// passes; ok is false for a file quiesce did not install.
func ParseOptions(content []byte) (o Options, ok bool) {
	if !bytes.Contains(content, []byte(Marker)) {
		return Options{}, false
	}
	re, unquote := shellOpt, func(s string) string { return strings.ReplaceAll(s, `'\''`, "'") }
	if isBatch(content) {
		re, unquote = batchOpt, func(s string) string { return strings.ReplaceAll(s, "%%", "%") }
	}
	for _, m := range re.FindAllSubmatch(content, -1) {
		v := unquote(string(m[2]))
		switch string(m[1]) {
		case "config":
			o.Config = v
		case "state-dir":
			o.StateDir = v
		case "log-file":
			o.LogFile = v
		}
	}
	return o, true
}

// CommandLine is binary with the options, as one line to paste into a
// backup console. A console may run it through a shell or split it on
// spaces itself, so a word is quoted only when it must be (shell quoting,
// or batch quoting for Windows): with plain paths the line reads the same
// either way.
func (o Options) CommandLine(binary string, windows bool) string {
	word := shellWord
	if windows {
		word = batchWord
	}
	line := word(binary)
	for _, p := range o.pairs() {
		line += " --" + p[0] + "=" + word(p[1])
	}
	return line
}

// shellSafe are the characters a POSIX shell takes literally in a word.
var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellWord is s as one shell word: as it is when that is safe, else
// single-quoted.
func shellWord(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// batchWord is s as one word for cmd and for Windows' own command-line
// split: double-quoted when it holds a space or a character cmd acts on
// (Windows paths cannot hold a double quote).
func batchWord(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t&()[]{}^=;!'+,`~|<>%") {
		return s
	}
	return `"` + s + `"`
}
