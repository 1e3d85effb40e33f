//go:build !windows

package proc

import (
	"context"

	"github.com/shirou/gopsutil/v3/process"
)

// ownerID is who owns a process.
type ownerID struct {
	uid     int32
	account string
}

// owner reads gp's owner and checks it against m first: on a busy machine
// most processes are rejected by one cheap read of their UID.
func owner(ctx context.Context, gp *process.Process, m Matcher) (ownerID, bool) {
	uids, err := gp.UidsWithContext(ctx)
	if err != nil || len(uids) == 0 {
		return ownerID{}, false
	}
	if m.UID >= 0 && uids[0] != m.UID {
		return ownerID{}, false
	}
	return ownerID{uid: uids[0]}, true
}

// foldPath: Unix file names are case-sensitive.
func foldPath(p string) string { return p }

// SetOwner makes m select the processes of the account with this UID (Unix)
// or name (Windows).
func (m *Matcher) SetOwner(uid int, _ string) { m.UID = int32(uid) }

// Alive reports whether p is still the same running process (PID exists
// with the same start time and is not a zombie).
func Alive(p Proc) bool {
	gp := &process.Process{Pid: p.PID}
	start, err := gp.CreateTime()
	if err != nil || start != p.Start {
		return false
	}
	st, err := gp.Status()
	if err == nil && len(st) > 0 && st[0] == process.Zombie {
		return false
	}
	return true
}
