package vmware

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/quiesce/quiesce/scripts"
	"github.com/quiesce/quiesce/vendors/hook"
)

// legacyScripts are the scripts VMware Tools runs on Windows from the
// Windows folder, before (freeze) and after (thaw, freezeFail) the
// backupScripts.d folder.
var legacyScripts = []string{"pre-freeze-script.bat", "post-thaw-script.bat"}

// ErrLegacyWindowsOnly: the legacy .bat scripts exist on Windows only.
var ErrLegacyWindowsOnly = errors.New("the legacy pre-freeze-script.bat/post-thaw-script.bat are for Windows; on Linux install the backupScripts.d hook (quiesce install vmware)")

// LegacyDir is where VMware Tools looks for the legacy scripts: the
// Windows folder.
func LegacyDir() string {
	if root := os.Getenv("SystemRoot"); root != "" {
		return root
	}
	return `C:\Windows`
}

// InstallLegacy puts pre-freeze-script.bat and post-thaw-script.bat into
// dir, calling binary. Use them or the backupScripts.d hook, not both: VMware
// Tools would run quiesce twice.
func InstallLegacy(dir, binary string, opts ...hook.Options) (string, error) {
	return eachLegacy(func(name string) (string, error) {
		return hook.InstallFile(filepath.Join(dir, name), hook.Render(scripts.Read("vmware/"+name), binary, opts...))
	})
}

// UninstallLegacy removes the legacy scripts quiesce installed in dir.
func UninstallLegacy(dir string) (string, error) {
	return eachLegacy(func(name string) (string, error) { return hook.RemoveFile(filepath.Join(dir, name)) })
}

func eachLegacy(do func(name string) (string, error)) (string, error) {
	if runtime.GOOS != "windows" {
		return "", ErrLegacyWindowsOnly
	}
	var msgs []string
	for _, name := range legacyScripts {
		msg, err := do(name)
		if err != nil {
			return strings.Join(msgs, "\n"), err
		}
		msgs = append(msgs, msg)
	}
	return strings.Join(msgs, "\n"), nil
}
