package state

import (
	"encoding/json"
	"fmt"
	"time"
)

// Legacy is a record as version 1 wrote it, before records belonged to
// instances: keyed by a target name ("domino" for Domino stopped and
// started, "domino-online" for Domino in Domino Backup's backup mode, a
// [target NAME]'s name). A freeze taken by that release is found by the
// instance it belongs to and upgraded (Upgrade), so that the new release
// thaws it.
type Legacy struct {
	Version         int           `json:"version"`
	Target          string        `json:"target"`
	Holders         []Holder      `json:"holders"`
	WasRunning      bool          `json:"was_running"`
	StoppedByFreeze bool          `json:"stopped_by_freeze"`
	Phase           string        `json:"phase,omitempty"`
	StoppedAt       time.Time     `json:"stopped_at,omitempty"`
	FrozenAt        time.Time     `json:"frozen_at,omitempty"`
	Deadline        time.Time     `json:"deadline,omitempty"`
	Updated         time.Time     `json:"updated"`
	Note            string        `json:"note,omitempty"`
	Expired         []Holder      `json:"expired,omitempty"`
	ExpiredAt       time.Time     `json:"expired_at,omitempty"`
	Backup          *LegacyBackup `json:"backup,omitempty"`
}

// LegacyBackup is version 1's online freeze: the backup quiesce requested.
type LegacyBackup struct {
	Token     string    `json:"token"`
	ID        string    `json:"id,omitempty"`
	Requested time.Time `json:"requested"`
	InMode    time.Time `json:"in_mode,omitempty"`
	Window    time.Time `json:"window_end,omitempty"`
}

// Version 1's phases.
const (
	legacyStopping    = "stopping"
	legacyStopped     = "stopped"
	legacyStarting    = "starting"
	legacyStartFailed = "start-failed"
	legacyRequested   = "backup-requested"
	legacyInMode      = "backup-mode"
	legacyReleasing   = "backup-releasing"
)

// LoadLegacy reads the version-1 record named name; ok is false when there
// is none.
func (s *Store) LoadLegacy(name string) (l Legacy, ok bool, err error) {
	path := s.path(name)
	b, ok, err := s.read(path, 1<<20)
	if err != nil || !ok {
		return Legacy{}, false, err
	}
	if err := json.Unmarshal(b, &l); err != nil || l.Version != 1 || l.Target != name {
		return Legacy{}, false, &CorruptError{Path: path, Err: fmt.Errorf("not a version 1 record of %s (%v)", name, err)}
	}
	return l, true, nil
}

// Methods version 1's records stand for, as the freeze methods name
// themselves.
const (
	LegacyStopMethod   = "stop"
	LegacyBackupMethod = "domino-backup"
)

// Upgrade turns a version-1 record into the record of instance key. The
// method's data keep version 1's field names: the stop method's
// was_running and stopped_at, and Domino Backup's backup fields.
func (l Legacy) Upgrade(key, name string) Record {
	r := Record{Version: Version, Instance: key, Name: name, Holders: l.Holders, Deadline: l.Deadline, Updated: l.Updated,
		Note: l.Note, Expired: l.Expired, ExpiredAt: l.ExpiredAt}
	if l.Backup != nil {
		r.Method, r.Owed, r.Since, r.HeldAt = LegacyBackupMethod, true, l.Backup.Requested, l.Backup.InMode
		r.Phase = map[string]string{legacyRequested: PhaseEntering, legacyInMode: PhaseHeld, legacyReleasing: PhaseLeaving}[l.Phase]
		r.Data, _ = json.Marshal(l.Backup)
		return r
	}
	if len(l.Holders) == 0 && !l.StoppedByFreeze && l.Phase == "" {
		return r // only expired holders are remembered
	}
	r.Method, r.Owed, r.Since, r.HeldAt = LegacyStopMethod, l.StoppedByFreeze, l.StoppedAt, l.FrozenAt
	r.Phase = map[string]string{legacyStopping: PhaseEntering, legacyStopped: PhaseHeld, legacyStarting: PhaseLeaving, legacyStartFailed: PhaseLeaveFailed}[l.Phase]
	if r.Since.IsZero() && len(l.Holders) > 0 {
		r.Since = l.Holders[0].Since
	}
	r.Data, _ = json.Marshal(struct {
		WasRunning bool      `json:"was_running"`
		StoppedAt  time.Time `json:"stopped_at,omitempty"`
	}{l.WasRunning, l.StoppedAt})
	return r
}
