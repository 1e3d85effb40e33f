//go:build !windows

package main

import "path/filepath"

func roleOf(exe string) role {
	name, dir := filepath.Base(exe), filepath.Base(filepath.Dir(exe))
	switch {
	case dir == "bin" && name == "server":
		return roleLauncher
	case dir == "bin" && name == "nsd":
		return roleNsd
	case dir == "linux" && name == "server":
		return roleServer
	case dir == "linux":
		return roleTask
	}
	return roleTool
}

// taskName is the task a task binary plays: its file name.
func taskName(exe string) string { return filepath.Base(exe) }

// taskExe is the binary of a server task.
func taskExe(lotus, name string) string { return filepath.Join(linuxDir(lotus), name) }

// lotusOf returns LOTUS from the path of a binary under LOTUS/bin or
// LOTUS/notes/latest/linux.
func lotusOf(exe string) string {
	dir := filepath.Dir(exe)
	if filepath.Base(dir) == "bin" {
		return filepath.Dir(dir)
	}
	return filepath.Clean(filepath.Join(dir, "..", "..", ".."))
}

func linuxDir(lotus string) string { return filepath.Join(lotus, "notes", "latest", "linux") }
