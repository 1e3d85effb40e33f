package gcp

import (
	"bytes"
	"maps"
	"os"
	"regexp"
	"strings"
	"testing"
)

// Fuzz target of the guest agent's configuration
// (/etc/default/instance_configs.cfg): what install, check and every
// pre/post script read, and what install --enable-agent writes. Seeds: the
// ini block of docs/gcp.md, the agent's [Snapshots] defaults, the tests'
// files, and testdata/fuzz/. "make fuzz" fuzzes it longer.

// FuzzParseAgent: any file parses or is refused naming the file and the
// key; a timeout is positive; Enable turns the scripts on, changes no
// other [Snapshots] setting, adds at most four lines, and is idempotent.
func FuzzParseAgent(f *testing.F) {
	doc, err := os.ReadFile("../../docs/gcp.md")
	if err != nil {
		f.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```ini\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(blocks) == 0 {
		f.Fatal("no ini block in docs/gcp.md; the seeds no longer read it")
	}
	for _, m := range blocks {
		f.Add(m[1])
	}
	for _, s := range []string{
		"[Accounts]\ndeprovision_remove = false\n\n[Snapshots]\nenabled = false\nsnapshot_service_ip = 169.254.169.254\nsnapshot_service_port = 8081\ntimeout_in_seconds = 60\n\n[Unstable]\nmds_mtls = false\n",
		"[Accounts]\nenabled = true\n\n[snapshots]\n# enabled = false\nEnabled = True\ntimeout_in_seconds = 45\n",
		"[Snapshots]\ntimeout_in_seconds = soon\n",
		"# comment\n[Snapshots]\ntimeout_in_seconds = 90",
		"[Accounts]\nx = 1",
		"",
	} {
		f.Add([]byte(s))
	}
	const path = "/etc/default/instance_configs.cfg"
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseAgent(path, data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), path+": [Snapshots] timeout_in_seconds") {
				t.Fatalf("error %q does not name the file and the key", err)
			}
		} else if !a.Exists || a.Timeout <= 0 {
			t.Fatalf("parsed as %+v", a)
		}
		on := Enable(data)
		want := snapshots(data)
		want["enabled"] = "true"
		if got := snapshots(on); !maps.Equal(got, want) {
			t.Fatalf("Enable made [Snapshots] %q of %q, want %q:\n%s", got, snapshots(data), want, on)
		}
		if a, err := ParseAgent(path, on); err == nil && !a.Enabled {
			t.Fatalf("not enabled after Enable:\n%s", on)
		}
		if n, m := bytes.Count(data, []byte("\n")), bytes.Count(on, []byte("\n")); m > n+4 {
			t.Fatalf("Enable made %d lines of %d", m, n)
		}
		if again := Enable(on); !bytes.Equal(again, on) {
			t.Fatalf("a second Enable changed the file:\n%s\n%s", on, again)
		}
	})
}
