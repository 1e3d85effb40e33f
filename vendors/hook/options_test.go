package hook

import (
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
