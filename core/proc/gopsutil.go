package proc

import (
	"context"
	"errors"
	"path/filepath"
	"strings"

	"github.com/shirou/gopsutil/v3/process"
)

// System reads the live process table through gopsutil.
type System struct{}

// NewSystem returns a Source over the live process table.
func NewSystem() System {
	process.EnableBootTimeCache(true)
	return System{}
}

// Scan implements Source. Details are read only for processes owned by the
// matcher's UID, which keeps a scan of a busy machine cheap.
func (System) Scan(m Matcher) ([]Proc, error) {
	ctx := context.Background()
	pids, err := process.PidsWithContext(ctx)
	if err != nil {
		return nil, err
	}
	var out []Proc
	for _, pid := range pids {
		p, ok := inspect(ctx, pid, m)
		if ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// inspect reads one process; ok is false when it does not match or vanished.
func inspect(ctx context.Context, pid int32, m Matcher) (Proc, bool) {
	gp := &process.Process{Pid: pid}
	uids, err := gp.UidsWithContext(ctx)
	if err != nil || len(uids) == 0 {
		return Proc{}, false
	}
	if m.UID >= 0 && uids[0] != m.UID {
		return Proc{}, false
	}
	exe := executable(ctx, gp)
	if exe == "" {
		return Proc{}, false
	}
	if len(m.Prefixes) > 0 && !m.MatchPath(exe) && !scriptMatch(ctx, gp, m) {
		return Proc{}, false
	}
	comm, _ := gp.NameWithContext(ctx)
	if !m.MatchName(filepath.Base(exe), comm) {
		return Proc{}, false
	}
	start, err := gp.CreateTimeWithContext(ctx)
	if err != nil {
		return Proc{}, false
	}
	return Proc{PID: pid, Start: start, UID: uids[0], Exe: exe, Name: filepath.Base(exe), Comm: comm}, true
}

// executable returns the process's executable path, falling back to the
// first word of its command line when /proc/PID/exe cannot be read (another
// user's process without privileges). A replaced binary's " (deleted)"
// suffix is dropped: an upgraded server is still the server.
func executable(ctx context.Context, gp *process.Process) string {
	exe, err := gp.ExeWithContext(ctx)
	if err == nil && exe != "" {
		return strings.TrimSuffix(exe, " (deleted)")
	}
	args, err2 := gp.CmdlineSliceWithContext(ctx)
	if err2 != nil || len(args) == 0 || !filepath.IsAbs(args[0]) {
		return ""
	}
	if errors.Is(err, context.Canceled) {
		return ""
	}
	return args[0]
}

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

// scriptMatch matches a process running a script under one of the
// prefixes: the kernel shows the interpreter as the executable, and the
// script as the first or second word of the command line (a launcher such
// as Domino's bin/server is a shell script).
func scriptMatch(ctx context.Context, gp *process.Process, m Matcher) bool {
	args, err := gp.CmdlineSliceWithContext(ctx)
	if err != nil {
		return false
	}
	for i := 0; i < len(args) && i < 2; i++ {
		if filepath.IsAbs(args[i]) && m.MatchPath(args[i]) {
			return true
		}
	}
	return false
}
