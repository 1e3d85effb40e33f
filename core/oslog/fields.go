// Package oslog sends quiesce's log entries to the operating system's own
// logs as well as to its JSON file: the systemd journal, with a priority
// and one field per log field, and the Windows Application event log for
// warnings and errors. Both are zap cores, teed with the file's.
package oslog

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"
)

// Syslog priorities (RFC 5424), as the journal takes them.
const (
	PriCrit    = 2
	PriErr     = 3
	PriWarning = 4
	PriInfo    = 6
	PriDebug   = 7
)

// Priority is the syslog priority of a zap level.
func Priority(l zapcore.Level) int {
	switch {
	case l >= zapcore.DPanicLevel:
		return PriCrit
	case l == zapcore.ErrorLevel:
		return PriErr
	case l == zapcore.WarnLevel:
		return PriWarning
	case l == zapcore.InfoLevel:
		return PriInfo
	}
	return PriDebug
}

// renamed are log fields whose journal field says more than the key: a
// duration's field names its unit, and the engine's downtime is what an
// admin calls the outage.
var renamed = map[string]string{"downtime": "OUTAGE_SECONDS"}

// Fields turns an entry's log fields into journal fields: upper case,
// letters, digits and underscores; durations in seconds under a _SECONDS
// name; lists joined with "; ".
func Fields(fields map[string]any) map[string]string {
	out := make(map[string]string, len(fields))
	for k, v := range fields {
		name := fieldName(k)
		if r, ok := renamed[k]; ok {
			name = r
		} else if _, ok := v.(time.Duration); ok {
			name += "_SECONDS"
		}
		out[name] = value(v)
	}
	return out
}

// fieldName makes k a valid journal field name: A-Z, 0-9 and _, not
// starting with _ or a digit.
func fieldName(k string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(k) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := strings.TrimLeft(b.String(), "_")
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		name = "F_" + name
	}
	return name
}

func value(v any) string {
	switch x := v.(type) {
	case time.Duration:
		return strconv.FormatFloat(x.Seconds(), 'f', -1, 64)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = value(e)
		}
		return strings.Join(parts, "; ")
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// summaryKeys are the fields a one-line message shows, in this order.
var summaryKeys = []string{"op", "caller", "outcome", "downtime", "error"}

// Summary is the entry as one line for a reader of the journal or the
// event log: the instance (or target) first, the message, then what
// happened.
func Summary(msg string, fields map[string]any) string {
	var b strings.Builder
	t, ok := fields["instance"].(string)
	if !ok || t == "" {
		t, ok = fields["target"].(string)
	}
	if ok && t != "" {
		b.WriteString(t + ": ")
	}
	b.WriteString(msg)
	for _, k := range summaryKeys {
		v, ok := fields[k]
		if !ok || isEmpty(v) {
			continue
		}
		if k == "downtime" {
			k = "outage"
		}
		fmt.Fprintf(&b, " %s=%s", k, value(v))
	}
	return b.String()
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case string:
		return x == ""
	case time.Duration:
		return x == 0
	}
	return false
}

// encode collects an entry's fields (the core's and the entry's).
func encode(ctx, fields []zapcore.Field) map[string]any {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range ctx {
		f.AddTo(enc)
	}
	for _, f := range fields {
		f.AddTo(enc)
	}
	return enc.Fields
}

// sortedKeys are m's keys in order, for stable output.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
