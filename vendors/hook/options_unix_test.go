//go:build !windows

package hook

import (
	"os/exec"
	"strings"
	"testing"
)

// The shell quoting is what sh reads: each option arrives as one argument.
func TestShellOptionsAreOneArgumentEach(t *testing.T) {
	opts := Options{Config: "/etc/it's here/q.conf", StateDir: "/var/lib/q $HOME `x`"}
	script := string(Render([]byte(`printf '%s\n'@OPTIONS@`), "", opts))
	out, err := exec.Command("sh", "-c", script).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join(opts.Args(), "\n") + "\n"
	if string(out) != want {
		t.Fatalf("sh read %q, want %q", out, want)
	}
	cl := opts.CommandLine("/opt/my tools/quiesce", false)
	out, err = exec.Command("sh", "-c", "printf '%s\n' "+cl).Output()
	if err != nil || string(out) != "/opt/my tools/quiesce\n"+want {
		t.Fatalf("command line %s: sh read %q (%v)", cl, out, err)
	}
}
