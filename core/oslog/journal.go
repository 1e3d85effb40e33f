package oslog

import (
	"github.com/coreos/go-systemd/v22/journal"
	"go.uber.org/zap/zapcore"
)

// Identifier is quiesce's SYSLOG_IDENTIFIER: journalctl -t quiesce.
const Identifier = "quiesce"

// SendFunc sends one journal entry (journal.Send's signature).
type SendFunc func(message string, priority journal.Priority, vars map[string]string) error

// Journal is a zap core that sends each entry to the systemd journal
// through its native protocol: the priority from the level, MESSAGE a
// one-line summary, and every log field as a journal field (TARGET,
// CALLER, OUTCOME, OUTAGE_SECONDS, ...). Entries the journal refuses are
// dropped: the JSON file has them.
type Journal struct {
	zapcore.LevelEnabler
	send   SendFunc
	fields []zapcore.Field
}

// NewJournal returns a Journal core sending through send (journal.Send in
// production).
func NewJournal(send SendFunc, level zapcore.LevelEnabler) *Journal {
	return &Journal{LevelEnabler: level, send: send}
}

// JournalAvailable reports whether the systemd journal takes entries
// (its socket, /run/systemd/journal/socket, answers).
func JournalAvailable() bool { return journal.Enabled() }

var _ zapcore.Core = (*Journal)(nil)

// With implements zapcore.Core.
func (j *Journal) With(fields []zapcore.Field) zapcore.Core {
	c := *j
	c.fields = append(append([]zapcore.Field(nil), j.fields...), fields...)
	return &c
}

// Check implements zapcore.Core.
func (j *Journal) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if j.Enabled(ent.Level) {
		return ce.AddCore(ent, j)
	}
	return ce
}

// Write implements zapcore.Core.
func (j *Journal) Write(ent zapcore.Entry, fields []zapcore.Field) error {
	all := encode(j.fields, fields)
	vars := Fields(all)
	vars["SYSLOG_IDENTIFIER"] = Identifier
	vars["QUIESCE_MESSAGE"] = ent.Message
	delete(vars, "MESSAGE")
	delete(vars, "PRIORITY")
	return j.send(Summary(ent.Message, all), journal.Priority(Priority(ent.Level)), vars)
}

// Sync implements zapcore.Core: every entry is sent as it is written.
func (j *Journal) Sync() error { return nil }
