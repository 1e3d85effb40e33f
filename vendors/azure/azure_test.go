//go:build !windows

package azure

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/vendors/hook"
	"github.com/quiesce/quiesce/vendors/hook/hooktest"
)

// The operation words, the limit from the plugin configuration, the
// parameters Azure passes, and the exit codes.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "VMSnapshotScriptPluginConfig.json")
	if err := os.WriteFile(cfg, []byte(`{"timeoutInSeconds": 45, "preScriptLocation": "/x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, []byte(`{"timeoutInSeconds": 7200}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		rec  *hooktest.Recorder
		code int
		call string
		out  string
	}{
		{[]string{"--plugin-config=" + cfg, "pre-script", "", ""}, &hooktest.Recorder{Result: freeze.Result{Message: "domino stopped"}}, ExitOK, "freeze azure  45s", "quiesce azure pre-script: freeze OK: domino stopped"},
		{[]string{"--plugin-config=" + cfg, "post-script"}, &hooktest.Recorder{}, ExitOK, "thaw azure  45s", "post-script: thaw OK"},
		{[]string{"--plugin-config=" + big, "pre-script"}, &hooktest.Recorder{}, ExitOK, "freeze azure  30m0s", "freeze OK"}, // capped as the extension caps it
		{[]string{"--plugin-config=" + filepath.Join(dir, "none.json"), "pre-script"}, &hooktest.Recorder{}, ExitOK, "freeze azure  30s", "freeze OK"},
		{[]string{"--plugin-config=" + cfg, "pre-script"}, &hooktest.Recorder{Err: hooktest.ErrBoom}, ExitFailed, "freeze azure  45s", "freeze FAILED: boom"},
		{[]string{"freeze"}, &hooktest.Recorder{}, ExitBadArgs, "", "unknown operation"},
		{nil, &hooktest.Recorder{}, ExitBadArgs, "", Usage},
	}
	for _, c := range cases {
		req, out, errb := c.rec.Request(c.args, nil)
		code := Run(context.Background(), req)
		all := out.String() + errb.String()
		if code != c.code || !strings.Contains(all, c.out) || (c.call != "" && !slices.Equal(c.rec.Calls, []string{c.call})) || (c.call == "" && len(c.rec.Calls) != 0) {
			t.Errorf("%v: code %d calls %v output %q", c.args, code, c.rec.Calls, all)
		}
		if code == ExitOK && errb.Len() != 0 {
			t.Errorf("%v: success written to stderr: %q", c.args, errb)
		}
	}
}

// A [budgets] azure longer than the file's timeoutInSeconds cannot be
// honoured: the file's limit is used.
func TestConfiguredBudgetCappedByTheFile(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "p.json")
	if err := os.WriteFile(cfg, []byte(`{"timeoutInSeconds": 40}`), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := &hooktest.Recorder{}
	req, _, _ := rec.Request([]string{"--plugin-config", cfg, "pre-script"}, nil)
	req.Open = func(string) (hook.Opened, error) {
		return hook.Opened{Op: rec, Limits: hook.Limits{Budget: 10 * time.Minute}}, nil
	}
	if code := Run(context.Background(), req); code != ExitOK || !slices.Equal(rec.Calls, []string{"freeze azure  40s"}) {
		t.Fatalf("code %d calls %v", code, rec.Calls)
	}
}

// timeoutInSeconds beyond a time.Duration is capped like any long one,
// and one that rounds to no time at all is not a timeout (found by
// FuzzParseObject: 1e10 came out negative, 1e-10 as 0 with ok).
func TestTimeoutBounds(t *testing.T) {
	for in, want := range map[string]time.Duration{"1e10": MaxTimeout, "1e300": MaxTimeout, "1800": MaxTimeout, "90.5": 90500 * time.Millisecond, "1e-10": 0, "-5": 0, "\"60\"": 0} {
		o, err := ParseObject([]byte(`{"timeoutInSeconds": ` + in + `}`))
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := o.Timeout(); got != want || ok != (want > 0) {
			t.Errorf("timeoutInSeconds %s: %v %v, want %v", in, got, ok, want)
		}
	}
}

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Merging into a file quiesce did not write needs --merge, keeps the
// other keys in their order, and Unmerge puts back exactly what was there.
func TestMergeAndUnmergeForeignFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "VMSnapshotScriptPluginConfig.json")
	orig := `{"pluginName": "ScriptRunner", "preScriptLocation": "/opt/app/pre.sh", "postScriptLocation": "/opt/app/post.sh",
"preScriptParams": ["a"], "timeoutInSeconds": 60, "continueBackupOnFailure": false, "appName": "keep me", "fsFreezeEnabled": false}`
	write(t, path, orig)
	o, _ := readObject(path)
	if _, _, err := Merge(o, Settings{Pre: "/q/pre", Post: "/q/post"}, path); err == nil || !strings.Contains(err.Error(), "--merge") {
		t.Fatalf("a foreign file was not refused: %v", err)
	}
	fail := false
	m, changed, err := Merge(o, Settings{Pre: "/q/pre", Post: "/q/post", Timeout: 90 * time.Second, Continue: &fail, Merge: true}, path)
	if err != nil {
		t.Fatal(err)
	}
	if m.String(keyPre) != "/q/pre" || m.String(keyPost) != "/q/post" || m.String("appName") != "keep me" || m.Bool(keyFSFreeze, true) {
		t.Fatalf("merged: %s", m.Marshal())
	}
	if got, _ := m.Timeout(); got != 90*time.Second {
		t.Fatalf("timeout %s", got)
	}
	if want := []string{keyPlugin, keyPre, keyPost, keyPreParams, keyTimeout, keyContinue, "appName", keyFSFreeze, keyPostParams, keyMarker}; !slices.Equal(m.Keys(), want) {
		t.Fatalf("key order %v, want %v", m.Keys(), want)
	}
	if len(changed) != 5 { // pre, post, both params (post added), timeout; continue is already false
		t.Fatalf("changed: %v", changed)
	}
	// Written and read back, as install and uninstall do.
	back, err := ParseObject(m.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := back.Ours(); !ok {
		t.Fatal("the marker did not survive a write")
	}
	left, remove, _, err := Unmerge(back, path)
	if err != nil || remove {
		t.Fatalf("unmerge: remove %v err %v", remove, err)
	}
	want, _ := ParseObject([]byte(orig))
	if string(compact(left.Marshal())) != string(compact(want.Marshal())) {
		t.Fatalf("not put back as it was:\n%s\nwant\n%s", left.Marshal(), want.Marshal())
	}
}

// A value with & < > is put back as the file had it, and a script path
// with them is written as it is (found by FuzzParseObject: json.Marshal
// wrote them as \u0026, so uninstall changed the file's bytes).
func TestMergeKeepsHTMLCharacters(t *testing.T) {
	orig := `{"preScriptLocation": "/opt/a&b/<pre>.sh"}`
	o, _ := ParseObject([]byte(orig))
	s := Settings{Pre: "/q/a&b/pre", Post: "/q/post", Merge: true}
	m, _, err := Merge(o, s, "p.json")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := ParseObject(m.Marshal())
	if _, changed, err := Merge(again, s, "p.json"); err != nil || len(changed) != 0 {
		t.Fatalf("second install changed %v (%v)", changed, err)
	}
	back, _ := ParseObject(m.Marshal())
	left, _, _, err := Unmerge(back, "p.json")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(compact(left.Marshal())); got != `{"preScriptLocation":"/opt/a&b/<pre>.sh"}` {
		t.Fatalf("put back as %s, want %s", got, orig)
	}
	if !strings.Contains(string(m.Marshal()), `"/q/a&b/pre"`) {
		t.Fatalf("script path not written as it is:\n%s", m.Marshal())
	}
}

// A file quiesce created goes with uninstall; one the administrator added
// to since stays, without quiesce's scripts; a key changed since install
// is left as the administrator set it.
func TestUnmergeCreatedFile(t *testing.T) {
	m, _, err := Merge(nil, Settings{Pre: "/q/pre", Post: "/q/post"}, "p.json")
	if err != nil {
		t.Fatal(err)
	}
	back, _ := ParseObject(m.Marshal())
	if _, remove, _, err := Unmerge(back, "p.json"); err != nil || !remove {
		t.Fatalf("a file quiesce created and nobody changed is not removed: %v", err)
	}
	back, _ = ParseObject(m.Marshal())
	back.Set("appName", raw("domino"))
	back.Set(keyTimeout, raw(120))
	left, remove, changed, err := Unmerge(back, "p.json")
	if err != nil || remove || left.String("appName") != "domino" || left.String(keyPre) != "" {
		t.Fatalf("remove %v err %v:\n%s", remove, err, left.Marshal())
	}
	if got, _ := left.Timeout(); got != 120*time.Second || strings.Contains(string(left.Marshal()), keyMarker) {
		t.Fatalf("timeout %s or marker left:\n%s %v", got, left.Marshal(), changed)
	}
}

// Uninstall refuses a file quiesce did not write; broken JSON is an
// error that names the file.
func TestForeignAndBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.json")
	write(t, path, `{"preScriptLocation": "/opt/pre.sh"}`)
	o, _ := readObject(path)
	if _, _, _, err := Unmerge(o, path); err == nil || !strings.Contains(err.Error(), "not written by quiesce") {
		t.Fatalf("unmerge of a foreign file: %v", err)
	}
	write(t, path, `{"preScriptLocation": `)
	if _, err := readObject(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("broken file: %v", err)
	}
	write(t, path, `{"a": 1} {"b": 2}`)
	if _, err := readObject(path); err == nil {
		t.Fatal("two objects accepted")
	}
}

// Install and uninstall through Setup with the extension's modes: the
// plugin configuration 600, the scripts 700, the scripts carry the
// marker, the binary, the options and the plugin configuration's path.
func TestSetupWritesModesAndRemoves(t *testing.T) {
	dir := t.TempDir()
	st := Setup{Config: filepath.Join(dir, "etc", "VMSnapshotScriptPluginConfig.json"), Dir: filepath.Join(dir, "etc")}
	o, _, created, err := st.Plan()
	if err != nil || !created {
		t.Fatalf("plan: %v %v", created, err)
	}
	for _, op := range []string{"pre", "post"} {
		path := filepath.Join(st.Dir, "quiesce-"+op+"-script.sh")
		body := Script(op, "/usr/local/sbin/quiesce", st.Config, hook.Options{Config: "/etc/quiesce/it's.conf"})
		for _, want := range []string{hook.Marker, "/usr/local/sbin/quiesce", `--config='/etc/quiesce/it'\''s.conf'`, "--plugin-config='" + st.Config + "' " + op + "-script"} {
			if !strings.Contains(string(body), want) {
				t.Fatalf("%s script lacks %q:\n%s", op, want, body)
			}
		}
		if _, err := WriteScript(path, body); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != ScriptMode {
			t.Fatalf("%s mode %o", path, fi.Mode().Perm())
		}
	}
	if err := st.WriteConfig(o); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(st.Config); fi.Mode().Perm() != ConfigMode || refused(st.Config, true) != "" {
		t.Fatalf("config mode %o: %s", fi.Mode().Perm(), refused(st.Config, true))
	}
	foreign := filepath.Join(dir, "foreign.sh")
	write(t, foreign, "#!/bin/sh\n")
	if _, err := WriteScript(foreign, Script("pre", "/q", st.Config)); err == nil {
		t.Fatal("a foreign script was overwritten")
	}
	lines, err := st.Remove()
	if err != nil || len(lines) != 3 {
		t.Fatalf("remove: %v %v", lines, err)
	}
	for _, p := range []string{st.Config, st.pre(), st.post()} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("%s left behind", p)
		}
	}
}
