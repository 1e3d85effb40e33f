package main

import (
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/holder"
	"github.com/quiesce/quiesce/core/state"
)

// dbFreeze is what status shows of a database server's online freeze:
// what holds it, and what the freeze recorded of the lock (the binary
// log position, the backup's start).
type dbFreeze struct {
	Server   string            `json:"server"`
	Held     string            `json:"held"` // "in BACKUP STAGE BLOCK_COMMIT", "checkpointed (nothing held)"
	Facts    map[string]string `json:"facts,omitempty"`
	Watchdog string            `json:"-"`
}

// dbView is rec's database freeze, nil when s freezes no database
// server online or rec is another method's.
func dbView(s *freeze.Session, rec state.Record) *dbFreeze {
	m, ok := s.Methods()[0].(*holder.Method)
	if !ok {
		return nil
	}
	facts, ok := m.Facts(rec)
	if !ok {
		return nil
	}
	server := m.Driver().Server()
	delete(facts, "labelfile") // large; in the log
	return &dbFreeze{Server: server, Held: m.Driver().Describe(facts), Facts: facts,
		Watchdog: "ends the " + server + " lock (the server serves throughout)"}
}
