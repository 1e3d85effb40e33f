package veeam

import (
	"fmt"
	"io"
	"runtime"

	"github.com/quiesce/quiesce/scripts"
	"github.com/quiesce/quiesce/vendors/hook"
)

// Scripts returns the script files an administrator uploads in the Veeam
// job, with the path of this guest's quiesce binary filled in.
func Scripts(binary string, opts ...hook.Options) map[string][]byte {
	ext := ".sh"
	if runtime.GOOS == "windows" {
		ext = ".cmd"
	}
	out := map[string][]byte{}
	for _, name := range []string{"pre-freeze", "post-thaw"} {
		out[name+ext] = hook.Render(scripts.Read("veeam/"+name+ext), binary, opts...)
	}
	return out
}

// Instructions prints what to do in the Veeam console for this machine;
// binary is the command line the scripts run.
func Instructions(w io.Writer, binary, dir string) {
	ext, kind := ".sh", "Linux"
	if runtime.GOOS == "windows" {
		ext, kind = ".cmd", "Windows"
	}
	fmt.Fprintf(w, `Veeam Backup & Replication: application-consistent backups of this guest with quiesce

1. The scripts are in %[1]s:
     %[1]s/pre-freeze%[2]s
     %[1]s/post-thaw%[2]s
   Copy them to the backup server.
2. In the backup job: Guest Processing > Enable application-aware processing >
   Applications... > this VM > Edit... > Scripts:
     Script processing mode: Require successful script execution
     %[3]s scripts: Pre-freeze script: pre-freeze%[2]s   Post-thaw script: post-thaw%[2]s
3. Guest OS credentials: an account that can run quiesce as root (Linux: root, or
   sudo without a password) / Local System or an administrator (Windows).

The scripts call %[4]s, which must stay installed on this guest.
Veeam shows the scripts' one-line messages in the job session; quiesce's own
log on this guest has the details.
`, dir, ext, kind, binary)
}
