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
   Copy them to the backup server. A Linux backup server (Veeam Software
   Appliance) takes script files only from /var/lib/veeam/scripts; on a
   Windows backup server any local folder will do.
2. In the backup job: Guest Processing > Enable application-aware processing >
   Applications... > this VM > Edit... > Scripts:
     Script processing mode: Require successful script execution
     %[3]s scripts: Pre-freeze script: pre-freeze%[2]s   Post-thaw script: post-thaw%[2]s
3. Guest OS credentials (the scripts run under them):
   Linux: root, or an account with sudo that asks for no password (a sudo that
   asks is not supported). Its login must print nothing on stderr: Veeam fails
   a Linux script on any byte there, including a .bashrc or sudo message that
   comes before the script runs.
   Windows: the guest-processing account (an administrator of this guest); the
   scripts run under it, not as Local System.

The scripts call %[4]s, which must stay installed on this guest.
Veeam shows the scripts' one-line messages in the job session; quiesce's own
log on this guest has the details.
`, dir, ext, kind, binary)
}
