package main

import (
	"path/filepath"
	"strings"
)

// roleOf decides the part from the executable's name, as Domino's own
// binaries are named in its program directory: nserver.exe, nsd.exe and
// one nNAME.exe per task. The tool (simdomino.exe) has no such name.
func roleOf(exe string) role {
	name := strings.ToLower(filepath.Base(exe))
	switch {
	case name == "nserver.exe":
		return roleServer
	case name == "nsd.exe":
		return roleNsd
	case strings.HasPrefix(name, "n") && strings.HasSuffix(name, ".exe") && len(name) > len("n.exe"):
		return roleTask
	}
	return roleTool
}

// taskName is the task a task binary plays: nupdate.exe is update.
func taskName(exe string) string {
	name := strings.ToLower(filepath.Base(exe))
	return strings.TrimSuffix(strings.TrimPrefix(name, "n"), ".exe")
}

// taskExe is the binary of a server task: PROGRAM\nNAME.exe.
func taskExe(lotus, name string) string { return filepath.Join(lotus, "n"+name+".exe") }

// lotusOf returns the program directory: where the binaries are.
func lotusOf(exe string) string { return filepath.Dir(exe) }
