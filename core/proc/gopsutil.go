package proc

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

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
// matcher's owner (UID, or account on Windows), which keeps a scan of a
// busy machine cheap; the process table is split among the CPUs.
func (System) Scan(m Matcher) ([]Proc, error) {
	ctx := context.Background()
	pids, err := process.PidsWithContext(ctx)
	if err != nil {
		return nil, err
	}
	parts := scanParts(len(pids))
	found := make([][]Proc, parts)
	var wg sync.WaitGroup
	for i := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, pid := range pids[i*len(pids)/parts : (i+1)*len(pids)/parts] {
				if p, ok := inspect(ctx, pid, m); ok {
					found[i] = append(found[i], p)
				}
			}
		}()
	}
	wg.Wait()
	return slices.Concat(found...), nil
}

// scanParts is how many goroutines share a scan of n processes: one per
// CPU, each with at least 256 processes (below that, starting them costs
// more than it saves).
func scanParts(n int) int {
	return max(1, min(runtime.GOMAXPROCS(0), n/256))
}

// inspect reads one process; ok is false when it does not match or vanished.
func inspect(ctx context.Context, pid int32, m Matcher) (Proc, bool) {
	gp := &process.Process{Pid: pid}
	id, ok := owner(ctx, gp, m)
	if !ok {
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
	return Proc{PID: pid, Start: start, UID: id.uid, Owner: id.account, Exe: exe, Name: filepath.Base(exe), Comm: comm}, true
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
