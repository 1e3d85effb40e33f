package proc

import (
	"context"
	"errors"
	"strings"

	"github.com/shirou/gopsutil/v3/process"
	"golang.org/x/sys/windows"
)

// ownerID is who owns a process.
type ownerID struct {
	uid     int32
	account string
}

// owner checks gp's account against m. Windows has no UIDs (gopsutil's
// Uids is not implemented there): the owner is the account of the
// process's token, DOMAIN\user, read only when m names an account; without
// one, the program directory alone selects the processes.
func owner(ctx context.Context, gp *process.Process, m Matcher) (ownerID, bool) {
	id := ownerID{uid: -1}
	if m.UID >= 0 {
		return id, false // no process has a UID here: never match by accident
	}
	if m.Account == "" {
		return id, true
	}
	name, err := gp.UsernameWithContext(ctx)
	if err != nil || !SameAccount(name, m.Account) {
		return id, false
	}
	id.account = name
	return id, true
}

// foldPath: Windows file names are case-insensitive.
func foldPath(p string) string { return strings.ToLower(p) }

// SetOwner makes m select the processes of the account with this UID (Unix)
// or name (Windows).
func (m *Matcher) SetOwner(_ int, name string) { m.UID, m.Account = -1, name }

// Alive reports whether p is still the same running process: the PID
// exists with the same creation time and has not exited. gopsutil's
// Status is not implemented on Windows, and an exited process whose handle
// someone still holds keeps its PID and creation time.
func Alive(p Proc) bool {
	h, err := openSame(p, windows.SYNCHRONIZE)
	if err != nil {
		return false
	}
	defer windows.CloseHandle(h)
	ev, err := windows.WaitForSingleObject(h, 0)
	return err == nil && ev == uint32(windows.WAIT_TIMEOUT)
}

// errNotSame: the PID is gone or belongs to another process now.
var errNotSame = errors.New("process gone or PID reused")

// openSame opens p with the given access rights (plus the right to read
// its creation time) and checks that the handle is p, not a process that
// reused its PID. While the handle is open, the PID cannot be reused.
func openSame(p Proc, access uint32) (windows.Handle, error) {
	h, err := windows.OpenProcess(access|windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(p.PID))
	if err != nil {
		return 0, err
	}
	var created, exited, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(h, &created, &exited, &kernel, &user); err != nil {
		windows.CloseHandle(h)
		return 0, err
	}
	if created.Nanoseconds()/1e6 != p.Start { // as gopsutil's CreateTime
		windows.CloseHandle(h)
		return 0, errNotSame
	}
	return h, nil
}
