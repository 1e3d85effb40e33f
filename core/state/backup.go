package state

import "time"

// Backup is an online freeze through Domino Backup's snapshot mode: the
// backup quiesce requested, and the identity that ties Domino Backup's
// status file to it.
type Backup struct {
	Token     string    `json:"token"`                // random; the status file must carry it
	ID        string    `json:"id,omitempty"`         // Domino's BackupStartDT, once reported
	Requested time.Time `json:"requested"`            // when quiesce asked for backup mode
	InMode    time.Time `json:"in_mode,omitempty"`    // when every database was in backup mode
	Window    time.Time `json:"window_end,omitempty"` // backup mode must end by then (Domino's own limit)
}
