//go:build !windows

package main

import (
	"os/exec"
	"syscall"
	"time"
)

// setGroup runs cmd in a process group of its own, killed as a whole when
// its context ends: a command's children go with it.
func setGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
}
