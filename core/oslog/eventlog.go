package oslog

import (
	"strings"

	"go.uber.org/zap/zapcore"
)

// Source is the event source quiesce registers in the Application log.
const Source = "quiesce"

// Event IDs quiesce writes (EventCreate.exe, the message file its source
// is registered with, takes IDs 1 to 1000 and shows the text as is).
const (
	EventError   = 1 // an operation failed, or something an admin must look at
	EventWarning = 2 // it worked, with a warning (a forced stop, a fallback, a late thaw)
)

// EventWriter writes to an event log (golang.org/x/sys/windows/svc/eventlog's
// *Log on Windows).
type EventWriter interface {
	Error(eid uint32, msg string) error
	Warning(eid uint32, msg string) error
}

// EventLog is a zap core that writes warnings and errors to the Windows
// event log: the summary line, then every field on a line of its own.
// An entry that succeeded but carries warnings (a freeze that had to
// kill) is written as a warning even when logged as info.
type EventLog struct {
	w      EventWriter
	fields []zapcore.Field
}

// NewEventLog returns an EventLog core writing to w.
func NewEventLog(w EventWriter) *EventLog { return &EventLog{w: w} }

var _ zapcore.Core = (*EventLog)(nil)

// Enabled implements zapcore.Core: info is looked at for its warnings.
func (e *EventLog) Enabled(l zapcore.Level) bool { return l >= zapcore.InfoLevel }

// With implements zapcore.Core.
func (e *EventLog) With(fields []zapcore.Field) zapcore.Core {
	c := *e
	c.fields = append(append([]zapcore.Field(nil), e.fields...), fields...)
	return &c
}

// Check implements zapcore.Core.
func (e *EventLog) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if e.Enabled(ent.Level) {
		return ce.AddCore(ent, e)
	}
	return ce
}

// Write implements zapcore.Core.
func (e *EventLog) Write(ent zapcore.Entry, fields []zapcore.Field) error {
	all := encode(e.fields, fields)
	kind, ok := EventKind(ent.Level, all)
	if !ok {
		return nil
	}
	msg := EventText(ent.Message, all)
	if kind == EventError {
		return e.w.Error(EventError, msg)
	}
	return e.w.Warning(EventWarning, msg)
}

// Sync implements zapcore.Core.
func (e *EventLog) Sync() error { return nil }

// EventKind decides whether an entry goes to the event log, and as what:
// errors as errors, warnings as warnings, and an info entry only when it
// carries warnings (an operation that succeeded with a forced stop, a
// fallback, a late thaw).
func EventKind(l zapcore.Level, fields map[string]any) (uint32, bool) {
	switch {
	case l >= zapcore.ErrorLevel:
		return EventError, true
	case l == zapcore.WarnLevel:
		return EventWarning, true
	case l == zapcore.InfoLevel:
		w, _ := fields["warnings"].([]any)
		return EventWarning, len(w) > 0
	}
	return 0, false
}

// EventText is an event's text: the summary line, a blank line, then
// every field as "NAME: value", in name order.
func EventText(msg string, fields map[string]any) string {
	var b strings.Builder
	b.WriteString(Summary(msg, fields))
	b.WriteString("\r\n\r\n")
	vars := Fields(fields)
	for _, k := range sortedKeys(vars) {
		if vars[k] == "" {
			continue
		}
		b.WriteString(k + ": " + vars[k] + "\r\n")
	}
	return b.String()
}
