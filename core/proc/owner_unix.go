//go:build !windows

package proc

import (
	"github.com/shirou/gopsutil/v3/process"
)

// ownerID is who owns a process.
type ownerID struct {
	uid     int32
	account string
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
