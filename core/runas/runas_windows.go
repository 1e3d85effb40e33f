package runas

import (
	"os/exec"
	"syscall"
)

// setUser on Windows: services run as their configured account; commands
// run as quiesce's own account in a new process group.
func setUser(cmd *exec.Cmd, _ Account) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}
