package azure

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"
)

// Fuzz target of the Azure VM backup extension's plugin configuration
// (VMSnapshotScriptPluginConfig.json): what install, uninstall, check and
// every pre/post-script read. Seeds: Microsoft's sample file, the file
// quiesce writes, the tests' files, and testdata/fuzz/. "make fuzz"
// fuzzes it longer.

const fuzzPath = "/etc/azure/VMSnapshotScriptPluginConfig.json"

var fuzzSettings = Settings{Pre: "/etc/azure/quiesce-pre-script.sh", Post: "/etc/azure/quiesce-post-script.sh", Merge: true}

// FuzzParseObject: a file that parses is written back (Marshal) as a file
// that parses to the same keys, in order, with the same values; its
// timeout is within the extension's limits; and installing quiesce into
// it (Merge) and uninstalling (Unmerge) gives back what was there.
func FuzzParseObject(f *testing.F) {
	created, _, err := Merge(nil, fuzzSettings, fuzzPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(created.Marshal())
	for _, s := range []string{
		`{"pluginName": "ScriptRunner", "preScriptLocation": "/opt/app/pre.sh", "postScriptLocation": "/opt/app/post.sh",
"preScriptParams": ["a"], "timeoutInSeconds": 60, "continueBackupOnFailure": false, "appName": "keep me", "fsFreezeEnabled": false}`,
		`{"timeoutInSeconds": 45, "preScriptLocation": "/x"}`,
		`{"timeoutInSeconds": 7200}`,
		`{"a": 1} {"b": 2}`,
		`{"preScriptLocation": `,
		`{"a": {"b": [1, 2, {"c": null}]}, "a": "again", "": true}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := ParseObject(data)
		if err != nil {
			return
		}
		keys := o.Keys()
		sorted := slices.Clone(keys)
		slices.Sort(sorted)
		if len(keys) != len(o.vals) || len(slices.Compact(sorted)) != len(keys) {
			t.Fatalf("keys %q do not match the values", keys)
		}
		written := o.Marshal()
		back, err := ParseObject(written)
		if err != nil {
			t.Fatalf("written as a file that does not parse: %v\n%s", err, written)
		}
		if !sameObject(o, back) || !bytes.Equal(back.Marshal(), written) {
			t.Fatalf("written and read back differ:\n%s\n%s", written, back.Marshal())
		}
		if d, ok := o.Timeout(); ok && (d <= 0 || d > MaxTimeout) {
			t.Fatalf("timeout %v outside (0, %v]", d, MaxTimeout)
		}
		if _, has := o.Get(keyMarker); !has {
			checkInstallUninstall(t, o, data)
		}
	})
}

// checkInstallUninstall: quiesce refuses a file it did not write unless
// told to merge; merged, the file is quiesce's (after a write) and a
// second install changes nothing; uninstalled, the file is as it was.
func checkInstallUninstall(t *testing.T, o *Object, data []byte) {
	t.Helper()
	refused := fuzzSettings
	refused.Merge = false
	if _, _, err := Merge(o, refused, fuzzPath); !errors.Is(err, ErrForeign) {
		t.Fatalf("a foreign file was not refused: %v", err)
	}
	fresh, _ := ParseObject(data) // Merge changes the object it is given
	m, _, err := Merge(fresh, fuzzSettings, fuzzPath)
	if err != nil {
		t.Fatal(err)
	}
	installed, err := ParseObject(m.Marshal())
	if err != nil {
		t.Fatalf("quiesce wrote a file that does not parse: %v\n%s", err, m.Marshal())
	}
	if _, ours := installed.Ours(); !ours || installed.String(keyPre) != fuzzSettings.Pre || installed.String(keyPost) != fuzzSettings.Post {
		t.Fatalf("installed, yet not quiesce's:\n%s", m.Marshal())
	}
	// The file's own timeout is kept (Settings.Timeout is 0): a usable one,
	// or none, leaves a usable one.
	_, had := o.Get(keyTimeout)
	if _, usable := o.Timeout(); (usable || !had) && !timeoutOK(installed.Timeout()) {
		t.Fatalf("installed without a usable timeout:\n%s", m.Marshal())
	}
	again, _ := ParseObject(m.Marshal())
	if m2, changed, err := Merge(again, fuzzSettings, fuzzPath); err != nil || len(changed) != 0 || !bytes.Equal(m2.Marshal(), m.Marshal()) {
		t.Fatalf("a second install changed %v (%v)", changed, err)
	}
	left, remove, _, err := Unmerge(installed, fuzzPath)
	if err != nil || remove {
		t.Fatalf("uninstall: remove %v, %v", remove, err)
	}
	if !sameObject(left, o) {
		t.Fatalf("not put back as it was:\n%s\nwant\n%s", left.Marshal(), o.Marshal())
	}
}

func timeoutOK(_ time.Duration, ok bool) bool { return ok }

// sameObject: the same keys in the same order, with the same values
// (compared compacted).
func sameObject(a, b *Object) bool {
	if !slices.Equal(a.Keys(), b.Keys()) {
		return false
	}
	for _, k := range a.Keys() {
		va, _ := a.Get(k)
		vb, _ := b.Get(k)
		if !bytes.Equal(compact(va), compact(vb)) {
			return false
		}
	}
	return true
}
