//go:build !windows

package runas

import (
	"os"
	"os/exec"
	"syscall"
)

func setUser(cmd *exec.Cmd, a Account) {
	attr := &syscall.SysProcAttr{Setsid: true}
	if os.Geteuid() == 0 && a.UID != 0 {
		groups := make([]uint32, len(a.Groups))
		for i, g := range a.Groups {
			groups[i] = uint32(g)
		}
		attr.Credential = &syscall.Credential{Uid: uint32(a.UID), Gid: uint32(a.GID), Groups: groups}
		cmd.Env = userEnv(a)
	}
	cmd.SysProcAttr = attr
}

// userEnv is the environment of a privilege-dropped command: root's own
// environment is not handed to the application's user.
func userEnv(a Account) []string {
	env := []string{
		"HOME=" + a.Home, "USER=" + a.Name, "LOGNAME=" + a.Name,
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	}
	for _, k := range []string{"LANG", "LC_ALL", "TZ"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}
