package hook

import (
	"bytes"
	"io/fs"
	"strings"
	"testing"

	"github.com/quiesce/quiesce/scripts"
)

// Fuzz targets of the options an installed hook passes to quiesce, read
// back by check. Seeds: every shim template of scripts/ rendered with
// options, and testdata/fuzz/. "make fuzz" fuzzes them longer.

const fuzzBinary = "/usr/local/sbin/quiesce"

// optionTemplates are the shim templates that pass the global options.
func optionTemplates(f *testing.F) map[string][]byte {
	f.Helper()
	out := map[string][]byte{}
	err := fs.WalkDir(scripts.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if b := scripts.Read(path); bytes.Contains(b, []byte(OptionsPlaceholder)) {
			out[path] = b
		}
		return nil
	})
	if err != nil || len(out) < 10 {
		f.Fatalf("%d templates with %s (%v); the seeds no longer find them", len(out), OptionsPlaceholder, err)
	}
	return out
}

var fuzzOptions = []Options{
	{},
	{Config: "/etc/quiesce/quiesce.conf"},
	{Config: "/etc/it's here/quiesce.conf", StateDir: "/var/lib/q $HOME", LogFile: `C:\Logs\100%\q.log`},
}

// FuzzParseOptions: only a file with the marker is quiesce's, and what is
// read back of it is written again (into a shell or a batch shim) as a
// file that reads back the same.
func FuzzParseOptions(f *testing.F) {
	tmpls := optionTemplates(f)
	for _, tmpl := range tmpls {
		for _, o := range fuzzOptions {
			f.Add(Render(tmpl, fuzzBinary, o))
		}
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		o, ours := ParseOptions(content)
		if ours != bytes.Contains(content, []byte(Marker)) || !ours && o != (Options{}) {
			t.Fatalf("ours %v, options %+v", ours, o)
		}
		for name, tmpl := range tmpls {
			if isBatch(tmpl) && strings.Contains(o.Config+o.StateDir+o.LogFile, `"`) {
				continue // Windows paths cannot hold a double quote
			}
			if got, _ := ParseOptions(Render(tmpl, fuzzBinary, o)); got != o {
				t.Fatalf("%s: %+v written, %+v read back", name, o, got)
			}
		}
	})
}

// FuzzOptionsRoundTrip: any options survive rendering into every shim and
// reading back (in a batch shim, any without a double quote).
func FuzzOptionsRoundTrip(f *testing.F) {
	tmpls := optionTemplates(f)
	for _, o := range fuzzOptions {
		f.Add(o.Config, o.StateDir, o.LogFile)
	}
	f.Fuzz(func(t *testing.T, config, stateDir, logFile string) {
		o := Options{Config: config, StateDir: stateDir, LogFile: logFile}
		for name, tmpl := range tmpls {
			if isBatch(tmpl) && strings.Contains(config+stateDir+logFile, `"`) {
				continue
			}
			body := Render(tmpl, fuzzBinary, o)
			if got, ours := ParseOptions(body); !ours || got != o {
				t.Fatalf("%s: %+v written, %+v read back (ours %v):\n%s", name, o, got, ours, body)
			}
		}
	})
}
