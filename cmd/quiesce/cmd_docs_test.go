//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// runDocs runs "quiesce ARGS" in-process, as "make dist" runs the binary.
func runDocs(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(append([]string{"quiesce"}, args...), stdio{out: &out, err: &errb}); code != ExitOK {
		t.Fatalf("quiesce %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

// visibleTree is every visible command path of the CLI ("install vmware"),
// read from the app itself, not from the generated documents.
func visibleTree(t *testing.T) map[string][]string {
	t.Helper()
	app := newApp(&env{io: stdio{out: &bytes.Buffer{}, err: &bytes.Buffer{}}, prog: "quiesce"})
	tree := map[string][]string{}
	var walk func(path string, cmds []*cli.Command)
	walk = func(path string, cmds []*cli.Command) {
		for _, c := range cmds {
			if c.Hidden {
				continue
			}
			tree[path] = append(tree[path], c.Name)
			walk(strings.TrimSpace(path+" "+c.Name), c.Subcommands)
		}
	}
	walk("", app.Commands)
	if len(tree[""]) < 10 {
		t.Fatalf("the CLI has only %d visible commands: %v", len(tree[""]), tree[""])
	}
	return tree
}

// The man page lists every visible command and subcommand as an entry of
// its own, and no hidden one; it is a section 8 page named quiesce.
func TestManPageListsEveryCommand(t *testing.T) {
	page := runDocs(t, "man")
	if !strings.Contains(page, ".TH QUIESCE 8 ") {
		t.Errorf("no section 8 title line:\n%.300s", page)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(page, "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	for path, names := range visibleTree(t) {
		for _, name := range names {
			entry := ".SH " + name
			if path != "" {
				entry = ".SS " + name // a subcommand
			}
			if !lines[entry] {
				t.Errorf("man page: no entry for %q", strings.TrimSpace(path+" "+name))
			}
		}
	}
	for _, hidden := range []string{"man", "completion"} {
		if lines[".SH "+hidden] {
			t.Errorf("man page lists the hidden command %q", hidden)
		}
	}
	for _, section := range []string{".SH EXIT STATUS", ".SH FILES", ".SH SEE ALSO", "150"} {
		if !strings.Contains(page, section) {
			t.Errorf("man page lacks %q", section)
		}
	}
	// The synopsis and the options read as a man page does: the value a
	// flag takes by name, defaults as typed.
	for _, want := range []string{
		".SH SYNOPSIS\n.B quiesce\n[\\fB\\-\\-config\\fR|\\fB\\-c\\fR \\fIFILE\\fR]\n[\\fB\\-\\-state\\-dir\\fR \\fIDIR\\fR]\n",
		".TP\n\\fB\\-\\-fail\\-code\\fR \\fIN\\fR\nexit code N for a failure (1-255), to match the plan's \"On exit code\" rule (default: 1)\n",
		".TP\n\\fB\\-\\-dry\\-run\\fR\ncheck what the hook needs",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("man page lacks\n%s", want)
		}
	}
	for _, bad := range []string{"=[value]", `=""`, `(default: "`} {
		if strings.Contains(page, bad) {
			t.Errorf("man page has %q", bad)
		}
	}
	// Every caller: its exit codes are its own, its guide is named.
	exits := page[strings.Index(page, ".SH EXIT STATUS"):]
	seeAlso := page[strings.Index(page, ".SH SEE ALSO"):]
	for _, a := range adapters() {
		if !strings.Contains(exits, " "+a.Name) || !strings.Contains(seeAlso, a.Name+".md") {
			t.Errorf("man page: caller %s missing from EXIT STATUS or SEE ALSO", a.Name)
		}
		if _, err := os.Stat(filepath.Join("..", "..", "docs", a.Name+".md")); err != nil {
			t.Errorf("SEE ALSO names %s.md: %v", a.Name, err)
		}
	}
	if man, err := exec.LookPath("man"); err == nil {
		path := filepath.Join(t.TempDir(), "quiesce.8")
		if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(man, "-l", path)
		cmd.Env = append(os.Environ(), "MANWIDTH=100", "MANPAGER=cat", "PAGER=cat")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "domino-backup") {
			t.Errorf("man -l: %v\n%s", err, out)
		}
	}
}

// The bash completion offers, after each command path, exactly the
// visible subcommands (and the flags) of that command: bash itself runs
// the generated function.
func TestBashCompletionNamesEveryCommand(t *testing.T) {
	bash, err := exec.LookPath("bash")
	simtest.Require(t, err == nil, "bash is not installed")
	script := filepath.Join(t.TempDir(), "quiesce")
	if err := os.WriteFile(script, []byte(runDocs(t, "completion", "bash")), 0o644); err != nil {
		t.Fatal(err)
	}
	complete := func(words ...string) []string {
		t.Helper()
		// COMP_WORDS as bash fills it: the program, the words, the one being typed.
		src := `source "$1"; shift; COMP_WORDS=(quiesce "$@"); COMP_CWORD=$(($# )); _quiesce; printf '%s\n' "${COMPREPLY[@]}"`
		out, err := exec.Command(bash, append([]string{"-c", src, "bash", script}, words...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("completing %q: %v\n%s", words, err, out)
		}
		return strings.Fields(string(out))
	}
	for path, names := range visibleTree(t) {
		words := append(strings.Fields(path), "")
		got := complete(words...)
		names = append(names, callerWords(path)...)
		var cmds []string
		for _, w := range got {
			if !strings.HasPrefix(w, "-") {
				cmds = append(cmds, w)
			}
		}
		sort.Strings(cmds)
		want := append([]string(nil), names...)
		sort.Strings(want)
		if strings.Join(cmds, " ") != strings.Join(want, " ") {
			t.Errorf("after %q: completes %v, want %v", path, cmds, want)
		}
	}
	// Global flags and their values do not end the command path.
	if got := complete("--config", "/etc/x.conf", "install", "v"); strings.Join(got, " ") != "vmware veeam" {
		t.Errorf("after --config FILE install v: %v", got)
	}
	if got := complete("install", "qemu", "--"); !contains(got, "--dropin-dir") {
		t.Errorf("install qemu --: %v", got)
	}
	if got := complete("man"); len(got) != 0 {
		t.Errorf("the hidden command man is offered: %v", got)
	}
	// A caller's operation words complete, then only its options.
	if got := complete("vmware", ""); strings.Join(got, " ") != "freeze freezeFail thaw --dry-run" {
		t.Errorf("vmware <TAB>: %v", got)
	}
	if got := complete("vmware", "freeze", ""); strings.Join(got, " ") != "--dry-run" {
		t.Errorf("vmware freeze <TAB>: %v", got)
	}
	if got := complete("arcserve", "pre"); strings.Join(got, " ") != "pre-snapshot" {
		t.Errorf("arcserve pre<TAB>: %v", got)
	}
}

// callerWords are the operation words of the caller command at path (not
// its placeholders, such as SCRIPT_ARG), nil for any other path.
func callerWords(path string) []string {
	a, ok := adapters().Find(path)
	if !ok {
		return nil
	}
	var words []string
	for _, w := range a.Help.Words {
		if strings.ToUpper(w.Name) != w.Name {
			words = append(words, w.Name)
		}
	}
	return words
}

// The zsh completion names every visible command path, with each word's
// usage as its description, and zsh parses it.
func TestZshCompletionNamesEveryCommand(t *testing.T) {
	script := runDocs(t, "completion", "zsh")
	if !strings.HasPrefix(script, "#compdef quiesce\n") {
		t.Errorf("not a zsh completion function:\n%.200s", script)
	}
	for path, names := range visibleTree(t) {
		if path != "" && !strings.Contains(script, "'"+path+"') cmdpath=") {
			t.Errorf("zsh: no command path %q", path)
		}
		for _, name := range append(names, callerWords(path)...) {
			if !strings.Contains(script, "'"+name+":") {
				t.Errorf("zsh: %q is not offered", strings.TrimSpace(path+" "+name))
			}
		}
	}
	for _, w := range []string{"freeze", "freezeFail", "thaw"} {
		if !strings.Contains(script, "'vmware "+w+"') cmdpath=") {
			t.Errorf("zsh: vmware %s is no command path", w)
		}
	}
	zsh, err := exec.LookPath("zsh")
	simtest.Require(t, err == nil, "zsh is not installed (.ci/run installs it)")
	file := filepath.Join(t.TempDir(), "_quiesce")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(zsh, "-n", file).CombinedOutput(); err != nil {
		t.Errorf("zsh -n: %v\n%s", err, out)
	}
}

func TestCompletionNeedsAShell(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"quiesce", "completion", "fish"}, stdio{out: &out, err: &errb}); code != ExitUsage || !strings.Contains(errb.String(), "bash or zsh") {
		t.Errorf("completion fish: exit %d, stderr %q", code, errb.String())
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
