package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/shirou/gopsutil/v3/process"
)

// domProcs lists the processes running a program from the program
// directory, as nsd finds them (this nsd.exe excepted).
func domProcs(lotus string) []int {
	pids, _ := process.Pids()
	prefix := strings.ToLower(filepath.Clean(lotus)) + `\`
	var out []int
	for _, pid := range pids {
		if int(pid) == os.Getpid() {
			continue
		}
		if strings.HasPrefix(strings.ToLower(exeOf(int(pid))), prefix) {
			out = append(out, int(pid))
		}
	}
	return out
}

func exeOf(pid int) string {
	exe, _ := (&process.Process{Pid: int32(pid)}).Exe()
	return exe
}

// killPID ends a process with TerminateProcess.
func killPID(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
