package proc

import (
	"bytes"
	"context"
	"os"
	"strconv"

	"github.com/shirou/gopsutil/v3/process"
	"golang.org/x/sys/unix"
)

// owner decides whether gp belongs to m's owner by its real UID, as
// gopsutil's Uids does, from the "Uid:" line of /proc/PID/status read
// into a small buffer: gopsutil parses all fifty lines of the file, which
// costs five times the read. (A stat of /proc/PID would be cheaper still,
// but it shows the effective UID: a process the owner started from a
// set-user-ID program would be missed.)
func owner(_ context.Context, gp *process.Process, m Matcher) (ownerID, bool) {
	uid, ok := realUID(procDir(gp.Pid))
	if !ok || (m.UID >= 0 && uid != m.UID) {
		return ownerID{}, false
	}
	return ownerID{uid: uid}, true
}

// procRoot is where the process table is mounted: gopsutil's HOST_PROC,
// else /proc.
func procRoot() string {
	if r := os.Getenv("HOST_PROC"); r != "" {
		return r
	}
	return "/proc"
}

func procDir(pid int32) string { return procRoot() + "/" + strconv.Itoa(int(pid)) }

// statusHead is how much of /proc/PID/status realUID reads: the Uid line
// comes after Name (at most 64 bytes escaped) and seven short lines.
const statusHead = 1024

// realUID reads the real UID from the "Uid:" line of dir/status.
func realUID(dir string) (int32, bool) {
	fd, err := unix.Open(dir+"/status", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, false
	}
	defer unix.Close(fd)
	var buf [statusHead]byte
	n, err := unix.Read(fd, buf[:])
	if err != nil || n <= 0 {
		return 0, false
	}
	return parseUID(buf[:n])
}

// parseUID finds "\nUid:\tREAL\t..." in the head of a status file.
func parseUID(b []byte) (int32, bool) {
	i := bytes.Index(b, []byte("\nUid:"))
	if i < 0 {
		return 0, false
	}
	rest := bytes.TrimLeft(b[i+len("\nUid:"):], " \t")
	end := bytes.IndexAny(rest, " \t\n")
	if end < 0 {
		return 0, false
	}
	uid, err := strconv.ParseInt(string(rest[:end]), 10, 32)
	if err != nil {
		return 0, false
	}
	return int32(uid), true
}
