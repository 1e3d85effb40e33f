package main

import "os/exec"

// setGroup: on Windows the snapshot commands need no process group of their
// own (the simulated Domino Backup is exercised on Linux; online mode is
// Linux-only, Domino's VSS writer serves Windows).
func setGroup(*exec.Cmd) {}
