package config

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ParseRcDomino reads an rc_domino_config as data. Only comments and
// variable assignments ("NAME=value", "export NAME=value", "export NAME")
// are accepted; values may be quoted and may refer to earlier variables
// ($NAME, ${NAME}), falling back to env. Anything that would run a command
// when the file is sourced is an error: the file is never executed.
// Variables quiesce does not use are accepted and ignored.
func ParseRcDomino(file string, b []byte, env func(string) string) (File, error) {
	vars := map[string]string{}
	lines := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	n := 1
	for ; sc.Scan(); n++ {
		name, val, err := parseShellLine(sc.Text(), func(k string) string {
			if v, ok := vars[k]; ok {
				return v
			}
			return env(k)
		})
		if err != nil {
			return File{}, &Error{File: file, Line: n, Key: name, Msg: err.Error()}
		}
		if name != "" {
			vars[name], lines[name] = val, n
		}
	}
	if err := sc.Err(); err != nil {
		return File{}, scanError(file, n, err)
	}
	return fromRcVars(file, vars, lines)
}

// rcKeys maps the rc_domino variables quiesce uses onto the configuration.
var rcKeys = map[string]setter{
	"DOMINO_USER":                 str(func(d *File) *string { return &d.User }),
	"LOTUS":                       absPath(func(d *File) *string { return &d.Lotus }),
	"DOMINO_DATA_PATH":            absPath(func(d *File) *string { return &d.Data }),
	"DOMINO_SHUTDOWN_TIMEOUT":     seconds(func(d *File) *time.Duration { return &d.ShutdownTimeout }),
	"DOMINO_NSD_BEFORE_KILL":      boolean(func(d *File) *bool { return &d.NsdBeforeKill }),
	"DOMINO_PRE_SHUTDOWN_COMMAND": str(func(d *File) *string { return &d.PreShutdownCommand }),
	"DOMINO_PRE_SHUTDOWN_DELAY":   seconds(func(d *File) *time.Duration { return &d.PreShutdownDelay }),
	"DOMINO_OUTPUT_LOG":           absPath(func(d *File) *string { return &d.OutputLog }),
	"DOMINO_INPUT_FILE":           absPath(func(d *File) *string { return &d.InputFile }),
	// quiesce's own: how a snapshot freezes Domino (auto, online, stop)
	"DOMINO_QUIESCE_METHOD": oneOf(func(d *File) *string { return &d.Online.Method }, MethodAuto, MethodOnline, MethodStop),
	// quiesce's own: node_exporter's textfile directory ([metrics] textfile_dir)
	"DOMINO_QUIESCE_METRICS_DIR": absPath(func(d *File) *string { return &d.Metrics.TextfileDir }),
}

func fromRcVars(file string, vars map[string]string, lines map[string]int) (File, error) {
	d := defaults(file)
	d.RcFormat, d.HasDomino = true, true
	for _, name := range byLine(lines) {
		set, known := rcKeys[name]
		if !known {
			continue
		}
		v, ok := vars[name]
		if !ok || v == "" {
			continue
		}
		if msg := set(&d, v); msg != "" {
			return File{}, &Error{File: file, Line: lines[name], Key: name, Msg: msg}
		}
	}
	d.defaultLogs()
	d.Warnings = nearMisses(file, vars, lines)
	return d, nil
}

// byLine lists the variables in the order of the file, so that of two bad
// settings the first is reported, every time.
func byLine(lines map[string]int) []string {
	names := make([]string, 0, len(lines))
	for name := range lines {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return lines[names[i]] < lines[names[j]] })
	return names
}

// nearMisses warns of each variable that is not one quiesce reads but
// looks like a misspelling of one that is not set (DOMINO_SHUTDOWN_TIMOUT):
// the start script ignores it too, so it is no error, but the setting
// meant keeps its default. In line order.
func nearMisses(file string, vars map[string]string, lines map[string]int) []string {
	var names []string
	for name := range vars {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return lines[names[i]] < lines[names[j]] })
	var out []string
	for _, name := range names {
		if _, known := rcKeys[name]; known {
			continue
		}
		meant := likelyKey(name)
		if meant == "" || vars[meant] != "" {
			continue
		}
		out = append(out, fmt.Sprintf("%s:%d: %s is no setting quiesce reads: did you mean %s? That one is not set, so its default applies",
			file, lines[name], name, meant))
	}
	return out
}

// likelyKey is the rc_domino variable quiesce reads that name is one or
// two typing mistakes away from (one for short names), or "".
func likelyKey(name string) string {
	best, bestDist := "", 0
	for key := range rcKeys {
		limit := 2
		if len(key) < 10 {
			limit = 1
		}
		d := editDistance(strings.ToUpper(name), key)
		if d > limit {
			continue
		}
		if best == "" || d < bestDist || d == bestDist && key < best {
			best, bestDist = key, d
		}
	}
	return best
}

// editDistance counts the letters inserted, deleted, changed or swapped
// with their neighbour that turn a into b (optimal string alignment).
func editDistance(a, b string) int {
	prev2, prev, cur := make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// seconds parses the whole seconds rc_domino uses.
func seconds(field func(*File) *time.Duration) setter {
	return func(d *File, v string) string {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Sprintf("%q is not a whole number of seconds", v)
		}
		if int64(n) > maxSeconds {
			return fmt.Sprintf("%q is too long (at most %d seconds)", v, maxSeconds)
		}
		*field(d) = time.Duration(n) * time.Second
		return ""
	}
}

var (
	exportOnly = regexp.MustCompile(`^export(\s+[A-Za-z_][A-Za-z0-9_]*)+$`)
	assignment = regexp.MustCompile(`^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$`)
)

// parseShellLine returns the variable a line assigns; name is "" for
// comments, blank lines and bare exports.
func parseShellLine(raw string, lookup func(string) string) (name, val string, err error) {
	line := strings.TrimSpace(raw)
	if line == "" || strings.HasPrefix(line, "#") || exportOnly.MatchString(line) {
		return "", "", nil
	}
	m := assignment.FindStringSubmatch(line)
	if m == nil {
		return "", "", fmt.Errorf("not a variable assignment: %q (the file is read as data, never executed)", line)
	}
	val, err = shellWord(m[2], lookup)
	return m[1], val, err
}

// shellWord evaluates one shell word: unquoted text, '...', "..." and
// $NAME/${NAME} expansion, up to an unquoted blank or "#" comment.
func shellWord(s string, lookup func(string) string) (string, error) {
	var out strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			return out.String(), trailing(s[i:])
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return "", fmt.Errorf("unterminated single quote")
			}
			out.WriteString(s[i+1 : i+1+end])
			i += end + 2
		case c == '"':
			n, err := doubleQuoted(s[i+1:], &out, lookup)
			if err != nil {
				return "", err
			}
			i += n + 2
		case c == '`' || c == ';' || c == '|' || c == '&' || c == '<' || c == '>' || c == '(' || c == ')':
			return "", fmt.Errorf("shell syntax %q is not allowed (the file is read as data, never executed)", string(c))
		case c == '\\' && i+1 == len(s):
			return "", fmt.Errorf("a \\ at the end of the line continues the value on the next line when the shell reads the file: not supported (join the lines)")
		case c == '\\':
			out.WriteByte(s[i+1])
			i += 2
		case c == '$':
			n, err := expand(s[i:], &out, lookup)
			if err != nil {
				return "", err
			}
			i += n
		default:
			out.WriteByte(c)
			i++
		}
	}
	return out.String(), nil
}

// trailing accepts only blanks and a comment after a value.
func trailing(rest string) error {
	rest = strings.TrimSpace(rest)
	if rest == "" || strings.HasPrefix(rest, "#") {
		return nil
	}
	return fmt.Errorf("unexpected %q after the value (quote values that contain spaces)", rest)
}

// doubleQuoted evaluates the inside of "..." (s starts after the opening
// quote) and returns how many bytes it used, without the closing quote.
func doubleQuoted(s string, out *strings.Builder, lookup func(string) string) (int, error) {
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '"':
			return i, nil
		case c == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0:
			out.WriteByte(s[i+1])
			i += 2
		case c == '`':
			return 0, fmt.Errorf("command substitution is not allowed (the file is read as data, never executed)")
		case c == '$':
			n, err := expand(s[i:], out, lookup)
			if err != nil {
				return 0, err
			}
			i += n
		default:
			out.WriteByte(c)
			i++
		}
	}
	return 0, fmt.Errorf("unterminated double quote")
}

var (
	plainVar  = regexp.MustCompile(`^\$([A-Za-z_][A-Za-z0-9_]*)`)
	bracedVar = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
)

// expand writes the value of the variable s starts with and returns how
// many bytes it used.
func expand(s string, out *strings.Builder, lookup func(string) string) (int, error) {
	if strings.HasPrefix(s, "$(") {
		return 0, fmt.Errorf("command substitution is not allowed (the file is read as data, never executed)")
	}
	for _, re := range []*regexp.Regexp{bracedVar, plainVar} {
		if m := re.FindStringSubmatch(s); m != nil {
			out.WriteString(lookup(m[1]))
			return len(m[0]), nil
		}
	}
	if strings.HasPrefix(s, "${") {
		return 0, fmt.Errorf("parameter expansion %q is not supported", s)
	}
	out.WriteByte('$')
	return 1, nil
}
