package main

import (
	"strings"
	"testing"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// On Windows the help, check and simdomino's help say what is true there:
// Windows' default places, TerminateProcess, and no Linux path, signal or
// caller that runs no hook on Windows.
func TestWindowsHelpAndCheckSayWindows(t *testing.T) {
	bin := simtest.Binary(t, "quiesce")
	cfg := testConfig(t)
	linux := []string{"/var/", "/etc/", "/usr/", "rc_domino_config", "SIGTERM", "SIGKILL", "signals", "qemu", "gcp", "azure", "aws"}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{`%ProgramData%\quiesce)`, `%ProgramData%\quiesce\quiesce.log)`, "then TerminateProcess", "vmware, veeam, arcserve, nutanix)"}},
		{[]string{"stop", "--help"}, []string{"then TerminateProcess"}},
		{[]string{"install", "--help"}, []string{"vmware", "veeam", "arcserve", "nutanix"}},
		{[]string{"--config", cfg, "check", "--all"}, []string{"vmware ", "nutanix ", "nsd -kill and TerminateProcess waits"}},
	} {
		out, _ := runBinary(t, bin, c.args...)
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("quiesce %s: no %q:\n%s", strings.Join(c.args, " "), w, out)
			}
		}
		for _, l := range linux {
			if strings.Contains(out, l) {
				t.Errorf("quiesce %s says %q on Windows:\n%s", strings.Join(c.args, " "), l, out)
			}
		}
	}
	if out, code := runBinary(t, bin, "qemu", "freeze"); code != ExitUsage || !strings.Contains(out, `unknown command "qemu"`) {
		t.Errorf("quiesce qemu on Windows: exit %d\n%s", code, out)
	}
	out, code := runBinary(t, simtest.Binary(t, "simdomino"), "--help")
	if code != 0 || !strings.Contains(out, `Domino\Data\notes.ini`) || !strings.Contains(out, "TerminateProcess") {
		t.Errorf("simdomino --help: exit %d\n%s", code, out)
	}
	for _, l := range []string{"SIGTERM", "/local/notesdata", "demo", "--backup"} {
		if strings.Contains(out, l) {
			t.Errorf("simdomino --help says %q on Windows:\n%s", l, out)
		}
	}
}
