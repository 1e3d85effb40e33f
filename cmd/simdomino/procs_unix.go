//go:build !windows

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// domProcs lists this user's processes running a binary under LOTUS/notes,
// as nsd finds them.
func domProcs(lotus string) []int {
	prefix := filepath.Join(lotus, "notes") + "/"
	if real, err := filepath.EvalSymlinks(filepath.Join(lotus, "notes")); err == nil {
		prefix = real + "/"
	}
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil || pid == os.Getpid() {
			continue
		}
		if strings.HasPrefix(exeOf(pid), prefix) {
			out = append(out, pid)
		}
	}
	return out
}

func exeOf(pid int) string {
	exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	return strings.TrimSuffix(exe, " (deleted)")
}

func killPID(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }
