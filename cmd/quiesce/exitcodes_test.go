package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/runas"
	"github.com/quiesce/quiesce/scripts"
	"github.com/quiesce/quiesce/vendors/arcserve"
	"github.com/quiesce/quiesce/vendors/aws"
	"github.com/quiesce/quiesce/vendors/azure"
	"github.com/quiesce/quiesce/vendors/gcp"
	"github.com/quiesce/quiesce/vendors/nutanix"
	"github.com/quiesce/quiesce/vendors/qemu"
	"github.com/quiesce/quiesce/vendors/veeam"
	"github.com/quiesce/quiesce/vendors/vmware"
)

// The exit codes are a contract with scripts, backup consoles ("on exit
// code" rules), systemd units and monitoring: every number is written
// here literally, so that changing one in the code fails this test.
var pinnedCodes = []struct {
	name      string
	got, want int
}{
	{"ExitOK", ExitOK, 0},
	{"ExitFailure", ExitFailure, 1},
	{"ExitUsage", ExitUsage, 2},
	{"ExitUnimplemented", ExitUnimplemented, 3},
	{"ExitPrivilege", ExitPrivilege, 4},
	{"ExitNotInstalled", ExitNotInstalled, 5},
	{"ExitNotConfigured", ExitNotConfigured, 6},
	{"ExitNotRunning", ExitNotRunning, 7},
	{"ExitForcedStop", ExitForcedStop, 150},
	{"StatusRunning", StatusRunning, 0},
	{"StatusDead", StatusDead, 1},
	{"StatusStopped", StatusStopped, 3},
	{"StatusUnknown", StatusUnknown, 4},
	{"arcserve.ExitOK", arcserve.ExitOK, 0},
	{"arcserve.DefaultFailCode", arcserve.DefaultFailCode, 1},
	{"arcserve.ExitBadArgs", arcserve.ExitBadArgs, 2},
	{"qemu.ExitOK", qemu.ExitOK, 0},
	{"qemu.ExitFailed", qemu.ExitFailed, 1},
	{"qemu.ExitBadArgs", qemu.ExitBadArgs, 2},
	{"veeam.ExitOK", veeam.ExitOK, 0},
	{"veeam.ExitFailed", veeam.ExitFailed, 1},
	{"vmware.ExitOK", vmware.ExitOK, 0},
	{"vmware.ExitFailed", vmware.ExitFailed, 1},
	{"vmware.ExitBadArgs", vmware.ExitBadArgs, 2},
	{"nutanix.ExitOK", nutanix.ExitOK, 0},
	{"nutanix.ExitFailed", nutanix.ExitFailed, 1},
	{"nutanix.ExitBadArgs", nutanix.ExitBadArgs, 2},
	{"gcp.ExitOK", gcp.ExitOK, 0},
	{"gcp.ExitFailed", gcp.ExitFailed, 1},
	{"gcp.ExitBadArgs", gcp.ExitBadArgs, 2},
	{"gcp.ExitTimedOut", gcp.ExitTimedOut, 124},
	{"azure.ExitOK", azure.ExitOK, 0},
	{"azure.ExitFailed", azure.ExitFailed, 1},
	{"azure.ExitBadArgs", azure.ExitBadArgs, 2},
	{"aws.ExitOK", aws.ExitOK, 0},
	{"aws.ExitBadArgs", aws.ExitBadArgs, 1},
	{"aws.ExitPreFailed", aws.ExitPreFailed, 201},
	{"aws.ExitPostFailed", aws.ExitPostFailed, 202},
}

func TestExitCodeNumbersArePinned(t *testing.T) {
	for _, c := range pinnedCodes {
		if c.got != c.want {
			t.Errorf("%s is %d; the documented contract is %d (scripts and backup plans depend on it)", c.name, c.got, c.want)
		}
	}
}

// Each cause maps to its documented code; an error nobody marked is a
// failure (1), never a usage error (2).
func TestExitCodeOfEachCause(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"exitError", &exitError{code: 150}, 150},
		{"plain error", errors.New("disk full"), 1},
		{"wrapped plain error", fmt.Errorf("saving: %w", errors.New("disk full")), 1},
		{"plain error in actionError", &actionError{errors.New("disk full")}, 1},
		{"usage error", &usageError{cmd: "quiesce stop", err: errors.New("flag provided but not defined: -bogus")}, 2},
		{"not installed", fmt.Errorf("x: %w", domino.ErrNotInstalled), 5},
		{"no configuration", fmt.Errorf("x: %w", config.ErrNoConfig), 6},
		{"configuration error", &config.Error{File: "q.conf", Msg: "bad"}, 6},
		{"permission", fmt.Errorf("x: %w", runas.ErrPermission), 4},
		{"start failed", fmt.Errorf("x: %w", domino.ErrStartFailed), 7},
	}
	for _, c := range cases {
		if got := exitCode(c.err); got != c.want {
			t.Errorf("%s: exit code %d, want %d", c.name, got, c.want)
		}
	}
}

// runApp runs a command line through an app with markUsageErrors and
// exitCode, as run does.
func runApp(app *cli.App, args ...string) (int, error) {
	var out bytes.Buffer
	app.Writer, app.ErrWriter = &out, &out
	app.ExitErrHandler = func(*cli.Context, error) {}
	markUsageErrors(app)
	err := app.Run(args)
	return exitCode(err), err
}

// urfave/cli's own parse errors exit 2; whatever a command's action
// returns, marked or not, is decided by its cause (1 for a plain error).
// The app is a real urfave/cli app, so that a new urfave/cli release that
// changes how it reports parse errors fails here.
func TestOnlyCommandLineErrorsExitUsage(t *testing.T) {
	newTestApp := func() *cli.App {
		return &cli.App{Name: "quiesce", Commands: []*cli.Command{
			{Name: "plain", Flags: []cli.Flag{&cli.IntFlag{Name: "n"}},
				Action: func(*cli.Context) error { return errors.New("unmarked failure") }},
			{Name: "needs", Flags: []cli.Flag{&cli.StringFlag{Name: "dir", Required: true}},
				Action: func(*cli.Context) error { return nil }},
			{Name: "group", Subcommands: []*cli.Command{{Name: "sub", Action: func(*cli.Context) error { return nil }}}},
		}}
	}
	cases := []struct {
		args []string
		want int
	}{
		{[]string{"quiesce", "plain"}, 1},
		{[]string{"quiesce", "plain", "--n", "3"}, 1},
		{[]string{"quiesce", "plain", "--bogus"}, 2},
		{[]string{"quiesce", "plain", "--n", "three"}, 2},
		{[]string{"quiesce", "plain", "--n"}, 2},
		{[]string{"quiesce", "--bogus", "plain"}, 2},
		{[]string{"quiesce", "needs"}, 2},
		{[]string{"quiesce", "needs", "--dir", "/tmp"}, 0},
		{[]string{"quiesce", "group", "sub", "--bogus"}, 2},
		{[]string{"quiesce", "group", "sub"}, 0},
	}
	for _, c := range cases {
		if code, err := runApp(newTestApp(), c.args...); code != c.want {
			t.Errorf("%v: exit code %d (%v), want %d", c.args, code, err, c.want)
		}
	}
}

// The real command line: a flag quiesce does not know is a usage error
// with one line on stderr naming the command's help, nothing on stdout.
func TestUsageErrorIsOneLine(t *testing.T) {
	for _, args := range [][]string{
		{"quiesce", "stop", "--bogus"},
		{"quiesce", "--bogus", "status"},
		{"quiesce", "install", "vmware", "--bogus"},
	} {
		var out, errb bytes.Buffer
		code := run(args, stdio{out: &out, err: &errb})
		want := args[1]
		if args[1] == "--bogus" {
			want = args[0]
		}
		if code != ExitUsage || strings.Count(errb.String(), "\n") != 1 || !strings.Contains(errb.String(), "--help") ||
			!strings.Contains(errb.String(), want) || out.Len() != 0 {
			t.Errorf("%v: code %d stdout %q stderr %q; want %d and one line on stderr", args, code, out.String(), errb.String(), ExitUsage)
		}
	}
}

// domino.service tells systemd that a forced stop (exit 150) is a stop
// that worked: its SuccessExitStatus must be exactly the forced-stop code.
func TestDominoServiceSuccessExitStatus(t *testing.T) {
	var got []int
	sc := bufio.NewScanner(bytes.NewReader(scripts.Read("systemd/domino.service")))
	for sc.Scan() {
		v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "SuccessExitStatus=")
		if !ok {
			continue
		}
		for _, f := range strings.Fields(v) {
			n, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("SuccessExitStatus=%s: %q is not an exit code", v, f)
			}
			got = append(got, n)
		}
	}
	if len(got) != 1 || got[0] != ExitForcedStop {
		t.Fatalf("domino.service: SuccessExitStatus %v, want [%d] (ExitForcedStop)", got, ExitForcedStop)
	}
}

// docTable returns the rows of the first Markdown table after heading in
// a file under docs/, each row's cells trimmed.
func docTable(t *testing.T, file, heading string) [][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", file))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("%s: no heading %q", file, heading)
	}
	var rows [][]string
	for _, line := range strings.Split(after, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			if len(rows) > 0 {
				break
			}
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if strings.HasPrefix(cells[0], "---") {
			continue
		}
		rows = append(rows, cells)
	}
	if len(rows) < 2 {
		t.Fatalf("%s: no table under %q", file, heading)
	}
	return rows[1:] // without the header
}

var number = regexp.MustCompile(`\d+`)

// codeColumn returns the codes in a table's first column.
func codeColumn(t *testing.T, file string, rows [][]string) map[int][]string {
	t.Helper()
	codes := map[int][]string{}
	for _, r := range rows {
		n, err := strconv.Atoi(strings.Trim(r[0], "*"))
		if err != nil {
			t.Fatalf("%s: %q is not an exit code", file, r[0])
		}
		codes[n] = r
	}
	return codes
}

func sortedKeys(m map[int][]string) []int {
	var ks []int
	for k := range m {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	return ks
}

// The exit code table in docs/configuration.md lists exactly the codes
// exitcodes.go defines, with status's words at status's codes.
func TestDocsExitCodeTableMatchesCode(t *testing.T) {
	rows := codeColumn(t, "configuration.md", docTable(t, "configuration.md", "## Exit codes"))
	want := []int{ExitOK, ExitFailure, ExitUsage, ExitUnimplemented, ExitPrivilege, ExitNotInstalled, ExitNotConfigured, ExitNotRunning, ExitForcedStop}
	if got := sortedKeys(rows); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("configuration.md lists exit codes %v; exitcodes.go defines %v", got, want)
	}
	for code, word := range map[int]string{StatusRunning: "running", StatusDead: "dead", StatusStopped: "stopped", StatusUnknown: "unknown"} {
		if r, ok := rows[code]; !ok || len(r) < 3 || !strings.HasPrefix(r[2], word) {
			t.Errorf("configuration.md: status column of code %d should say %q: %q", code, word, r)
		}
	}
	if r := rows[ExitForcedStop]; len(r) < 2 || !strings.Contains(r[1], "killing") {
		t.Errorf("configuration.md: code %d should be the forced stop: %q", ExitForcedStop, r)
	}
	if r := rows[ExitNotRunning]; len(r) < 2 || !strings.Contains(r[1], "exited during start-up") {
		t.Errorf("configuration.md: code %d should be the start that exited: %q", ExitNotRunning, r)
	}
	b, _ := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if want := fmt.Sprintf("SuccessExitStatus=%d", ExitForcedStop); !strings.Contains(string(b), want) {
		t.Errorf("configuration.md does not advise %s", want)
	}
}

// The caller guides document the adapters' codes.
func TestCallerGuidesExitCodesMatchAdapters(t *testing.T) {
	rows := codeColumn(t, "arcserve.md", docTable(t, "arcserve.md", "## Exit codes"))
	if got, want := sortedKeys(rows), []int{arcserve.ExitOK, arcserve.DefaultFailCode, arcserve.ExitBadArgs}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("arcserve.md lists exit codes %v; vendors/arcserve defines %v", got, want)
	}
	for file, codes := range map[string][]int{
		"vmware.md": {vmware.ExitOK, vmware.ExitFailed},
		"qemu.md":   {qemu.ExitOK, qemu.ExitFailed},
	} {
		var seen []int
		for _, r := range docTable(t, file, "## What happens") {
			for _, s := range number.FindAllString(r[len(r)-1], -1) {
				n, _ := strconv.Atoi(s)
				seen = append(seen, n)
			}
		}
		for _, n := range seen {
			if n != codes[0] && n != codes[1] {
				t.Errorf("%s: exit %d in the table; the adapter exits %v", file, n, codes)
			}
		}
		if len(seen) == 0 {
			t.Errorf("%s: no exit codes in the table", file)
		}
	}
	b, _ := os.ReadFile(filepath.Join("..", "..", "docs", "veeam.md"))
	if want := fmt.Sprintf("%d success, %d failure", veeam.ExitOK, veeam.ExitFailed); !strings.Contains(string(b), want) {
		t.Errorf("veeam.md does not say %q", want)
	}
	for _, s := range []string{"veeam/pre-freeze.sh", "veeam/post-thaw.sh"} {
		if want := fmt.Sprintf("exit %d\n", veeam.ExitFailed); !strings.Contains(string(scripts.Read(s)), want) {
			t.Errorf("%s: quiesce missing should %q (Veeam's failure)", s, want)
		}
	}
}

// adapterCodes are each caller adapter's exit codes (pinned above), in
// ascending order; every adapter in the registry must be here.
var adapterCodes = map[string][]int{
	vmware.Name:   {vmware.ExitOK, vmware.ExitFailed, vmware.ExitBadArgs},
	veeam.Name:    {veeam.ExitOK, veeam.ExitFailed},
	arcserve.Name: {arcserve.ExitOK, arcserve.DefaultFailCode, arcserve.ExitBadArgs},
	qemu.Name:     {qemu.ExitOK, qemu.ExitFailed, qemu.ExitBadArgs},
	nutanix.Name:  {nutanix.ExitOK, nutanix.ExitFailed, nutanix.ExitBadArgs},
	gcp.Name:      {gcp.ExitOK, gcp.ExitFailed, gcp.ExitBadArgs, gcp.ExitTimedOut},
	azure.Name:    {azure.ExitOK, azure.ExitFailed, azure.ExitBadArgs},
	aws.Name:      {aws.ExitOK, aws.ExitBadArgs, aws.ExitPreFailed, aws.ExitPostFailed},
}

func numbers(s string) []int {
	var ns []int
	for _, w := range number.FindAllString(s, -1) {
		n, _ := strconv.Atoi(w)
		ns = append(ns, n)
	}
	return ns
}

// Every adapter in the registry has its codes pinned, says them in its
// --help, and has a row in docs/callers.md's summary table with those
// codes and its default budget, exactly, as the first time in minutes or
// seconds ("15 min", "30 s").
func TestCallersReferenceMatchesAdapters(t *testing.T) {
	rows := map[string][]string{}
	name := regexp.MustCompile("\\(`([a-z0-9]+)`\\)")
	for _, r := range docTable(t, "callers.md", "## At a glance") {
		m := name.FindStringSubmatch(r[0])
		if m == nil || len(r) != 5 {
			t.Errorf("callers.md: row %q names no adapter", r)
			continue
		}
		rows[m[1]] = r
	}
	firstTime := regexp.MustCompile(`(\d+) (min|s)\b`)
	unit := map[string]time.Duration{"min": time.Minute, "s": time.Second}
	for _, a := range allAdapters() { // every caller, whatever this platform runs
		codes, ok := adapterCodes[a.Name]
		if !ok {
			t.Errorf("adapter %s: its exit codes are not pinned in this test", a.Name)
			continue
		}
		if got := numbers(a.Help.Exits); fmt.Sprint(got) != fmt.Sprint(codes) {
			t.Errorf("adapter %s: --help says exit codes %v (%q); the adapter's are %v", a.Name, got, a.Help.Exits, codes)
		}
		r, ok := rows[a.Name]
		if !ok {
			t.Errorf("callers.md: no row for %s in the summary table", a.Name)
			continue
		}
		delete(rows, a.Name)
		if got := numbers(r[3]); fmt.Sprint(got) != fmt.Sprint(codes) {
			t.Errorf("callers.md: %s exits %v; the adapter %v", a.Name, got, codes)
		}
		if !docTimeIs(r[4], firstTime, unit, a.Defaults.Budget) {
			t.Errorf("callers.md: %s's time %q; the adapter's budget is %s", a.Name, r[4], a.Defaults.Budget)
		}
	}
	for n := range rows {
		t.Errorf("callers.md: a row for %s, which is not in the registry", n)
	}
}

// docTimeIs says whether the first time in cell ("N min" or "N s") is
// budget exactly.
func docTimeIs(cell string, re *regexp.Regexp, unit map[string]time.Duration, budget time.Duration) bool {
	m := re.FindStringSubmatch(cell)
	if m == nil {
		return false
	}
	n, err := strconv.Atoi(m[1])
	return err == nil && time.Duration(n)*unit[m[2]] == budget
}
