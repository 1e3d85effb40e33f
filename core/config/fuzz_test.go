package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Fuzz targets of both configuration formats. Their seeds (the shipped
// examples, the ini blocks of the docs, the rc_domino_config fixture, and
// the files under testdata/fuzz/) run with every "go test"; "make fuzz"
// fuzzes them longer.

const fuzzFile = "/etc/quiesce/fuzz.conf"

// seedFiles adds every file matching the globs (relative to this package)
// as a seed; it fails when a glob matches nothing, so that a moved
// fixture does not silently leave a target without its seeds.
func seedFiles(f *testing.F, globs ...string) {
	f.Helper()
	for _, g := range globs {
		files, _ := filepath.Glob(g)
		if len(files) == 0 {
			f.Fatalf("no seed file matches %s", g)
		}
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
}

// seedDocBlocks adds every ```ini block of the docs as a seed.
func seedDocBlocks(f *testing.F) {
	f.Helper()
	files, _ := filepath.Glob("../../docs/*.md")
	n := 0
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, m := range regexp.MustCompile("(?s)```ini\n(.*?)```").FindAllSubmatch(b, -1) {
			f.Add(m[1])
			n++
		}
	}
	if n < 5 {
		f.Fatalf("found %d ini blocks in docs/*.md; the seeds no longer read them", n)
	}
}

// checkError: every error of a parser is a *Error that names the file and,
// when it names a line, one the input has.
func checkError(t *testing.T, err error, data []byte) {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *config.Error", err, err)
	}
	if ce.File != fuzzFile || !strings.HasPrefix(err.Error(), fuzzFile+":") {
		t.Fatalf("error %q does not name the file %s", err, fuzzFile)
	}
	if lines := bytes.Count(data, []byte("\n")) + 1; ce.Line < 0 || ce.Line > lines {
		t.Fatalf("error %q names line %d of a %d-line input", err, ce.Line, lines)
	}
}

// checkDurations: no setting is a negative duration (an overflow of
// seconds to nanoseconds would make one).
func checkDurations(t *testing.T, d File) {
	t.Helper()
	ds := map[string]time.Duration{
		"shutdown_timeout": d.ShutdownTimeout, "start_timeout": d.StartTimeout, "kill_wait": d.KillWait,
		"pre_shutdown_delay": d.PreShutdownDelay, "lock_wait": d.Freeze.LockWait, "watchdog_margin": d.Freeze.WatchdogMargin,
		"deadline": d.Freeze.Deadline, "backup_enter_timeout": d.Online.EnterTimeout, "backup_max_window": d.Online.MaxWindow,
		"backup_end_timeout": d.Online.ReleaseTimeout,
	}
	for _, c := range []string{"vmware", "veeam", "qemu", "arcserve", "nutanix", "gcp", "azure", "aws"} {
		ds["budgets."+c], ds["budgets."+c+"_thaw"] = d.Budgets.Get(c), d.Budgets.Thaw(c)
	}
	for _, g := range d.Targets {
		ds[g.Name+".stop_timeout"], ds[g.Name+".start_timeout"], ds[g.Name+".kill_wait"] = g.StopTimeout, g.StartTimeout, g.KillWait
	}
	for k, v := range ds {
		if v < 0 {
			t.Fatalf("%s is negative: %v", k, v)
		}
	}
}

func FuzzParseNative(f *testing.F) {
	seedFiles(f, "../../docs/examples/*.conf", "../../scripts/packaging/quiesce.conf")
	seedDocBlocks(f)
	for _, s := range []string{
		"[domino]\nuser = notes   # the OS user\nlotus = \"/opt/a # b\"\npre_shutdown_command = tell http quit#now\n",
		"[target cache]\nmanager = commands\nstart = [\"/bin/true\"]\nstop = [\"/bin/true\"]\nprocess_names = redis\nready_tcp = 127.0.0.1:6379\norder = -1\n",
		"[budgets]\nazure = 20s\naws_thaw = 1m\n[domino]\n",
		"[domino]\n[domino]\n",
		"[target x]\n[target x]\n",
		"[domino]\nuser = a\nuser = b\n",
		"log_file = relative\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseNative(fuzzFile, data)
		if err != nil {
			checkError(t, err, data)
			return
		}
		if d.Source != fuzzFile || d.RcFormat || (!d.HasDomino && len(d.Targets) == 0) {
			t.Fatalf("accepted a file that configures nothing, or lost its source: %+v", d)
		}
		if n := bytes.Count(data, []byte("\n")) + 1; len(d.Targets) > n {
			t.Fatalf("%d targets from %d lines", len(d.Targets), n)
		}
		names := map[string]bool{"domino": d.HasDomino}
		for i, g := range d.Targets {
			if !validName(g.Name) || names[g.Name] {
				t.Fatalf("target name %q invalid or repeated", g.Name)
			}
			names[g.Name] = true
			if i > 0 && d.Targets[i-1].Order > g.Order {
				t.Fatalf("targets not in order: %d before %d", d.Targets[i-1].Order, g.Order)
			}
		}
		checkDurations(t, d)
		// The same input reads the same; a comment or a blank line more
		// changes nothing.
		again, err := ParseNative(fuzzFile, append(append([]byte("# fuzz\n\n"), data...), "\n\n# fuzz\n"...))
		if err != nil {
			t.Fatalf("accepted, but not with a comment around it: %v", err)
		}
		for i := range again.Targets {
			again.Targets[i].Line -= 2
		}
		if !reflect.DeepEqual(d, again) {
			t.Fatalf("a comment changed the result:\n%+v\n%+v", d, again)
		}
	})
}

// fuzzEnv is a fixed environment for rc_domino_config's $NAME fallbacks.
func fuzzEnv(k string) string {
	switch k {
	case "HOME":
		return "/home/notes"
	case "LOTUS":
		return "/opt/hcl/domino"
	}
	return ""
}

func FuzzParseRcDomino(f *testing.F) {
	seedFiles(f, "../../testdata/config/rc_domino_config")
	for _, s := range []string{
		"DOMINO_USER=notes\nLOTUS=/opt/hcl/domino\nDOMINO_DATA_PATH=/local/notesdata\n",
		"export DOMINO_DATA_PATH=\"$HOME/data\"\nDOMINO_OUTPUT_LOG=${DOMINO_DATA_PATH}/x.log # comment\n",
		"DOMINO_USER='it'\\''s'\nX=`id`\n",
		"LOTUS=$(id)\n",
		"X=\"unterminated\n",
		"DOMINO_QUIESCE_METHOD=online\nDOMINO_QUIESCE_METRICS_DIR=/var/lib/node_exporter\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseRcDomino(fuzzFile, data, fuzzEnv)
		// The same input gives the same answer, error and all (settings
		// are kept in a map: its order must not show).
		for i := 0; i < 3; i++ {
			d2, err2 := ParseRcDomino(fuzzFile, data, fuzzEnv)
			if !reflect.DeepEqual(d, d2) || (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
				t.Fatalf("two readings differ: %v / %v", err, err2)
			}
		}
		if err != nil {
			checkError(t, err, data)
			return
		}
		if d.Source != fuzzFile || !d.RcFormat || !d.HasDomino {
			t.Fatalf("an rc_domino_config is a Domino server: %+v", d)
		}
		for k, p := range map[string]string{"LOTUS": d.Lotus, "DOMINO_DATA_PATH": d.Data, "DOMINO_OUTPUT_LOG": d.OutputLog, "DOMINO_INPUT_FILE": d.InputFile} {
			if !filepath.IsAbs(p) {
				t.Fatalf("%s = %q is not absolute", k, p)
			}
		}
		checkDurations(t, d)
		again, err := ParseRcDomino(fuzzFile, append(append([]byte("# fuzz\n\n"), data...), "\n\n# fuzz\n"...), fuzzEnv)
		if err != nil || !reflect.DeepEqual(d, again) {
			t.Fatalf("a comment changed the result: %v\n%+v\n%+v", err, d, again)
		}
	})
}

// Load reads a file as an rc_domino_config when IsRcDominoConfig says so:
// such a file never reads as quiesce's own format, and comments and blank
// lines before the first setting do not change the verdict.
func FuzzIsRcDominoConfig(f *testing.F) {
	seedFiles(f, "../../testdata/config/rc_domino_config", "../../docs/examples/*.conf", "../../scripts/packaging/quiesce.conf")
	seedDocBlocks(f)
	for _, s := range []string{"export LOTUS\n", "  # c\n\nA_B\n", "lotus=/x\n", "[domino]\n", "X =1\n", "EXPORT X=1\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rc := IsRcDominoConfig(data)
		if _, err := ParseNative(fuzzFile, data); rc && err == nil {
			t.Fatal("read as an rc_domino_config, yet it is a valid quiesce.conf")
		}
		if IsRcDominoConfig(append([]byte("# comment\n\n   \n"), data...)) != rc {
			t.Fatal("a leading comment changed the format")
		}
	})
}
