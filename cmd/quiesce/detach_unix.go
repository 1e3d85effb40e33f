//go:build !windows

package main

import (
	"os/exec"
	"syscall"

	"github.com/quiesce/quiesce/core/runas"
)

// detach starts cmd in a session of its own, holding none of the
// descriptors this process inherited from its caller (a pipe an agent
// reads to its end must close when quiesce exits).
func detach(cmd *exec.Cmd) {
	runas.CloseInheritedOnExec()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
}
