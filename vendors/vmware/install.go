package vmware

import (
	"path/filepath"
	"runtime"

	"github.com/quiesce/quiesce/scripts"
	"github.com/quiesce/quiesce/vendors/hook"
)

// HookName is the file installed in backupScripts.d: scripts run in byte
// order for freeze and in reverse for thaw, so the number leaves room
// before and after.
const HookName = "50-quiesce"

// DefaultDir is VMware Tools' script folder on this platform.
func DefaultDir() string {
	if runtime.GOOS == "windows" {
		return `C:\Program Files\VMware\VMware Tools\backupScripts.d`
	}
	return "/etc/vmware-tools/backupScripts.d"
}

// hookFile returns the shim's path in dir and its template.
func hookFile(dir string) (string, []byte) {
	if runtime.GOOS == "windows" {
		return filepath.Join(dir, HookName+".cmd"), scripts.Read("vmware/quiesce-hook.cmd")
	}
	return filepath.Join(dir, HookName), scripts.Read("vmware/quiesce-hook.sh")
}

// Install puts the hook into dir, calling binary with opts.
func Install(dir, binary string, opts ...hook.Options) (string, error) {
	path, tmpl := hookFile(dir)
	return hook.InstallFile(path, hook.Render(tmpl, binary, opts...))
}

// HookPath is where Install puts the hook in dir.
func HookPath(dir string) string {
	path, _ := hookFile(dir)
	return path
}

// Uninstall removes the hook quiesce installed in dir.
func Uninstall(dir string) (string, error) {
	path, _ := hookFile(dir)
	return hook.RemoveFile(path)
}
