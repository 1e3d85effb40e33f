package aws

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quiesce/quiesce/vendors/hook"
)

// Fuzz target of the SSM command document install aws writes and
// LimitsFrom and check read back. Seeds: the documents quiesce writes,
// a minimal one, and testdata/fuzz/. "make fuzz" fuzzes it longer.

// FuzzParseDocument: a document that parses is written back (Marshal) as
// one that parses to the same document; its step timeout is positive;
// its script is made only for a command among its allowedValues and an
// executionId DLM's pattern allows, and then holds no placeholder.
func FuzzParseDocument(f *testing.F) {
	for _, d := range []Document{
		NewDocument("/usr/local/sbin/quiesce", hook.Options{Config: "/etc/quiesce/quiesce.conf"}, 30*time.Second),
		NewDocument("/opt/it's here/quiesce", hook.Options{Config: "/etc/quiesce/it's.conf", StateDir: "/var/lib/q $HOME"}, 120*time.Second),
	} {
		f.Add(d.Marshal())
	}
	for _, s := range []string{
		`{"schemaVersion": "2.2", "mainSteps": [{"action": "aws:runShellScript", "inputs": {"timeoutSeconds": 90, "runCommand": ["echo '{{ command }}' {{ executionId }}"]}}],
"parameters": {"command": {"type": "String", "allowedValues": ["pre-script", "{{ executionId }}"]}, "executionId": {"type": "String", "default": "None"}}}`,
		`{}`,
		`null`,
		`{"mainSteps": []}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDocument(data)
		if err != nil {
			return
		}
		written := d.Marshal()
		back, err := ParseDocument(written)
		if err != nil {
			t.Fatalf("written as a document that does not parse: %v\n%s", err, written)
		}
		if again := back.Marshal(); !bytes.Equal(again, written) {
			t.Fatalf("written and read back differ:\n%s\n%s", written, again)
		}
		if limit, ok := d.Timeout(); ok && limit <= 0 {
			t.Fatalf("step timeout %v", limit)
		}
		for _, cmd := range append(slices.Clone(Commands), "freeze") {
			for _, id := range []string{"", "None", "3f2504e0-4f89-41d3-9a0c-0305e82c3301", "'; reboot; '"} {
				checkScript(t, d, cmd, id)
			}
		}
	})
}

func checkScript(t *testing.T, d Document, cmd, id string) {
	t.Helper()
	s, err := d.Script(cmd, id)
	if err != nil {
		return
	}
	if !slices.Contains(d.Parameters["command"].AllowedValues, cmd) {
		t.Fatalf("script made for %q, not among %q", cmd, d.Parameters["command"].AllowedValues)
	}
	if id == "" {
		id = d.Parameters["executionId"].Default
	}
	if !executionID.MatchString(id) {
		t.Fatalf("script made for executionId %q", id)
	}
	if len(d.MainSteps) != 1 || d.MainSteps[0].Action != "aws:runShellScript" {
		t.Fatalf("script made of %d steps", len(d.MainSteps))
	}
	if strings.Contains(s, "{{ command }}") || strings.Contains(s, "{{ executionId }}") {
		t.Fatalf("placeholder left in:\n%s", s)
	}
}
