package hook

import (
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// Options survive rendering into a shell or batch hook and reading back,
// whatever the paths hold.
func TestOptionsRoundTrip(t *testing.T) {
	opts := Options{Config: "/etc/it's here/quiesce.conf", StateDir: "/var/lib/q $HOME", LogFile: `C:\Logs\100%\q.log`}
	for _, tmpl := range []string{
		"#!/bin/sh\n# " + Marker + "\nexec \"@QUIESCE@\"@OPTIONS@ vmware \"$@\"\n",
		"@echo off\r\nrem " + Marker + "\r\n\"@QUIESCE@\"@OPTIONS@ vmware %*\r\n",
	} {
		body := Render([]byte(tmpl), "/usr/local/sbin/quiesce", opts)
		if strings.Contains(string(body), OptionsPlaceholder) {
			t.Fatalf("placeholder left: %s", body)
		}
		got, ok := ParseOptions(body)
		if !ok || got != opts {
			t.Errorf("read back %+v (ours %v), want %+v from:\n%s", got, ok, opts, body)
		}
	}
	if _, ok := ParseOptions([]byte("#!/bin/sh\nexec quiesce --config='/x' vmware\n")); ok {
		t.Error("a file quiesce did not install was read as ours")
	}
	if body := Render([]byte("exec \"@QUIESCE@\"@OPTIONS@ qemu\n"), "/q"); string(body) != "exec \"/q\" qemu\n" {
		t.Errorf("no options: %q", body)
	}
}

// The shell quoting is what sh reads: each option arrives as one argument.
func TestShellOptionsAreOneArgumentEach(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no sh")
	}
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
