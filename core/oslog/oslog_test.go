package oslog

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/journal"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

type sent struct {
	msg  string
	pri  journal.Priority
	vars map[string]string
}

// The engine's line per operation becomes a journal entry with its
// priority and one field per log field.
func TestJournalEntry(t *testing.T) {
	var got []sent
	core := NewJournal(func(m string, p journal.Priority, v map[string]string) error {
		got = append(got, sent{m, p, v})
		return nil
	}, zapcore.InfoLevel)
	log := zap.New(core).With(zap.Int("pid", 42), zap.String("target", "domino"))
	log.Debug("not sent")
	log.Info("operation done", zap.String("op", "thaw"), zap.String("caller", "vmware"), zap.String("outcome", "started"),
		zap.Duration("downtime", 2500*time.Millisecond), zap.Duration("took", time.Second), zap.Strings("warnings", []string{"a", "b"}),
		zap.String("job", ""), zap.String("message", "shadowed"))
	log.Error("operation failed", zap.String("op", "freeze"), zap.Error(errors.New("no luck")))
	log.Warn("w")
	if len(got) != 3 {
		t.Fatalf("want 3 entries, got %d", len(got))
	}
	e := got[0]
	if e.pri != journal.PriInfo || e.msg != "domino: operation done op=thaw caller=vmware outcome=started outage=2.5" {
		t.Errorf("entry: %d %q", e.pri, e.msg)
	}
	for k, v := range map[string]string{"TARGET": "domino", "CALLER": "vmware", "OUTCOME": "started", "OP": "thaw", "OUTAGE_SECONDS": "2.5",
		"TOOK_SECONDS": "1", "WARNINGS": "a; b", "PID": "42", "SYSLOG_IDENTIFIER": "quiesce", "QUIESCE_MESSAGE": "operation done", "JOB": ""} {
		if got, ok := e.vars[k]; !ok || got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if _, ok := e.vars["MESSAGE"]; ok {
		t.Error("a log field named message overrides MESSAGE")
	}
	if got[1].pri != journal.PriErr || got[1].vars["ERROR"] != "no luck" || !strings.HasSuffix(got[1].msg, "error=no luck") {
		t.Errorf("error entry: %+v", got[1])
	}
	if got[2].pri != journal.PriWarning {
		t.Errorf("warning priority %d", got[2].pri)
	}
}

func TestFieldNames(t *testing.T) {
	for in, want := range map[string]string{"server_pid": "SERVER_PID", "phases[].took": "PHASES___TOOK", "_x": "X", "9lives": "F_9LIVES", "": "F_"} {
		if got := fieldName(in); got != want {
			t.Errorf("fieldName(%q) = %q, want %q", in, got, want)
		}
	}
}

type events struct{ errs, warns []string }

func (e *events) Error(id uint32, msg string) error {
	e.errs = append(e.errs, msg)
	return nil
}
func (e *events) Warning(id uint32, msg string) error {
	e.warns = append(e.warns, msg)
	return nil
}

// Failures and warnings reach the event log; a success with warnings (a
// forced stop) as a warning; plain information does not.
func TestEventLogMapping(t *testing.T) {
	var ev events
	log := zap.New(NewEventLog(&ev)).With(zap.String("target", "domino"))
	log.Info("operation done", zap.String("outcome", "stopped"), zap.Strings("warnings", nil))
	log.Debug("debug")
	log.Info("operation done", zap.String("op", "freeze"), zap.String("outcome", "stopped"), zap.Strings("warnings", []string{"domino had to be killed"}))
	log.Warn("settled a previous freeze first")
	log.Error("operation failed", zap.String("op", "thaw"), zap.Error(errors.New("start failed")))
	if len(ev.warns) != 2 || len(ev.errs) != 1 {
		t.Fatalf("warnings %q errors %q", ev.warns, ev.errs)
	}
	if !strings.HasPrefix(ev.warns[0], "domino: operation done op=freeze outcome=stopped\r\n\r\n") ||
		!strings.Contains(ev.warns[0], "WARNINGS: domino had to be killed\r\n") || !strings.Contains(ev.warns[0], "TARGET: domino\r\n") {
		t.Errorf("warning text %q", ev.warns[0])
	}
	if !strings.Contains(ev.errs[0], "error=start failed") || !strings.Contains(ev.errs[0], "ERROR: start failed") {
		t.Errorf("error text %q", ev.errs[0])
	}
}
