package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/quiesce/quiesce/vendors/hook"
)

// One entry in the registry is all a new caller needs: its command runs
// its adapter, install and uninstall offer it with its flags, check takes
// its locating flag as NAME-FLAG and looks for its hooks there, and a
// binary started under its hook name runs it.
func TestRegistryLineIsAllANewCallerNeeds(t *testing.T) {
	var ran, installed, removed []string
	var looked string
	extra := hook.Adapter{
		Name: "extra", Usage: "a caller added in one line",
		Help: hook.Help{Args: "go|stop", Words: []hook.Word{{Name: "go", What: "freeze"}}, Exits: "0 ok"},
		Run: func(_ context.Context, req hook.Request) int {
			ran = req.Args
			return 7
		},
		Invoked: func(argv0 string, args []string) ([]string, bool) {
			return []string{"go"}, filepath.Base(argv0) == "extra-hook"
		},
		Install: &hook.Installer{
			Usage:          "install extra",
			Flags:          []hook.Flag{{Name: "where", Usage: "hook folder", Default: "/nowhere", Locates: true}},
			Install:        func(s hook.Site) error { installed = append(installed, s.String("where")); return nil },
			UninstallUsage: "remove extra", UninstallFlags: []hook.Flag{{Name: "where", Usage: "hook folder"}},
			Uninstall: func(s hook.Site) error { removed = append(removed, s.String("where")); return nil },
			Hooks:     func(s hook.Site) []string { looked = s.String("where"); return nil },
		},
	}
	reg := append(adapters(), extra)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "quiesce.conf")
	body := "[target app]\nmanager = systemd\nunit = app.service\nprocess_path = " + dir + "\nready_tcp = 127.0.0.1:1\n\n[freeze]\nstate_dir = " + filepath.Join(dir, "state") + "\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	exec := func(args ...string) int {
		var out, errb bytes.Buffer
		return runWith(append([]string{"quiesce", "--config", cfg, "--log-file", filepath.Join(t.TempDir(), "q.log")}, args...),
			stdio{out: &out, err: &errb}, reg)
	}
	if code := exec("extra", "go", "now"); code != 7 || !slices.Equal(ran, []string{"go", "now"}) {
		t.Fatalf("caller command: exit %d, adapter got %v", code, ran)
	}
	ran = nil
	var out bytes.Buffer
	if code := runWith([]string{"/some/dir/extra-hook"}, stdio{out: &out, err: &out}, reg); code != 7 || !slices.Equal(ran, []string{"go"}) {
		t.Fatalf("hook name: exit %d, adapter got %v", code, ran)
	}
	if code := exec("install", "extra", "--where", "/w"); code != 0 || !slices.Equal(installed, []string{"/w"}) {
		t.Fatalf("install: exit %d, got %v", code, installed)
	}
	if code := exec("uninstall", "extra", "--where", "/u"); code != 0 || !slices.Equal(removed, []string{"/u"}) {
		t.Fatalf("uninstall: exit %d, got %v", code, removed)
	}
	exec("check", "--extra-where", "/c")
	if looked != "/c" {
		t.Fatalf("check looked for extra's hooks in %q", looked)
	}
	var help bytes.Buffer
	runWith([]string{"quiesce", "install", "--help"}, stdio{out: &help, err: &help}, reg)
	if !strings.Contains(help.String(), "install extra") {
		t.Fatalf("install's help does not list the new caller:\n%s", help.String())
	}
}

// Every caller install offers, uninstall offers too: it removes what
// install wrote, or, for an installer that only prints what to paste into
// the caller's console (arcserve), says that nothing is here to remove and
// where the settings are. install's one-line usage names every caller.
func TestUninstallAnswersForEveryInstall(t *testing.T) {
	var names []string
	for _, a := range adapters() {
		if a.Install == nil {
			continue
		}
		names = append(names, a.Name)
		if a.Install.Uninstall == nil && a.Install.Elsewhere == "" {
			t.Errorf("%s: install without uninstall and without saying where its settings are", a.Name)
		}
	}
	var out, errb bytes.Buffer
	code := run([]string{"quiesce", "uninstall", "arcserve"}, stdio{out: &out, err: &errb})
	if code != 0 || errb.Len() != 0 || !strings.HasPrefix(out.String(), "nothing to remove: install arcserve wrote no file here") ||
		!strings.Contains(out.String(), "Arcserve UDP plan (Advanced tab)") {
		t.Errorf("uninstall arcserve: exit %d stdout %q stderr %q", code, out.String(), errb.String())
	}
	out.Reset()
	run([]string{"quiesce", "--help"}, stdio{out: &out, err: &errb})
	if want := "print what to paste into its console (" + strings.Join(names, ", ") + ")"; !strings.Contains(out.String(), want) {
		t.Errorf("quiesce --help does not say %q:\n%s", want, out.String())
	}
}
