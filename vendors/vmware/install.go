package vmware

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/quiesce/quiesce/scripts"
	"github.com/quiesce/quiesce/vendors/hook"
)

// HookName is the file installed in backupScripts.d: scripts run in byte
// order for freeze and in reverse for thaw, so the number leaves room
// before and after.
const HookName = "50-quiesce"

// FallbackWindowsDir is backupScripts.d in VMware Tools' default install
// folder, used only when the registry does not say where Tools is.
const FallbackWindowsDir = `C:\Program Files\VMware\VMware Tools\backupScripts.d`

// ToolsKey and InstallPathValue locate VMware Tools on Windows:
// HKLM\SOFTWARE\VMware, Inc.\VMware Tools, value InstallPath.
const (
	ToolsKey         = `SOFTWARE\VMware, Inc.\VMware Tools`
	InstallPathValue = "InstallPath"
)

// ScriptDir is VMware Tools' script folder on this platform, and where
// that answer came from, for the installer to say.
func ScriptDir() (dir, source string) {
	if runtime.GOOS != "windows" {
		return "/etc/vmware-tools/backupScripts.d", "the VMware Tools default"
	}
	path, err := toolsInstallPath()
	return windowsDir(path, err)
}

// windowsDir is backupScripts.d under the registry's InstallPath, or the
// default folder when the registry could not be read.
func windowsDir(installPath string, err error) (dir, source string) {
	if err != nil || installPath == "" {
		why := "empty"
		if err != nil {
			why = err.Error()
		}
		return FallbackWindowsDir, fmt.Sprintf("the default: registry HKLM\\%s %s not readable (%s)", ToolsKey, InstallPathValue, why)
	}
	return strings.TrimRight(installPath, `\/`) + `\backupScripts.d`, fmt.Sprintf("registry HKLM\\%s %s", ToolsKey, InstallPathValue)
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
