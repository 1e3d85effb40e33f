//go:build linux

package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func noEnv(string) string { return "" }

func TestRcDominoSample(t *testing.T) {
	d, err := Load(filepath.Join("..", "..", "testdata", "config", "rc_domino_config"))
	if err != nil {
		t.Fatal(err)
	}
	want := File{
		RcFormat: true, HasDomino: true,
		Domino: Domino{User: "notes", Lotus: "/opt/hcl/domino", Data: "/local/notesdata",
			ShutdownTimeout: 180 * time.Second, StartTimeout: DefaultStartTimeout, KillWait: DefaultKillWait,
			Manager: ManagerAuto, Unit: "domino.service",
			NsdBeforeKill: true, PreShutdownCommand: "tell traveler shutdown", PreShutdownDelay: 10 * time.Second,
			OutputLog: "/local/notesdata/notes.log", InputFile: "/local/notesdata/notes.input"},
		Freeze: Freeze{ForcedStop: ForcedStopFail, Crashed: CrashedFail, LockWait: DefaultLockWait, WatchdogMargin: DefaultWatchdogMargin},
		Online: DefaultOnline,
	}
	d.Source = ""
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("got  %+v\nwant %+v", d, want)
	}
}

// A near-miss of a setting quiesce reads is no error (the start script
// ignores it too) but a warning naming the file, the line and the setting
// meant, which keeps its default; the start script's other variables and
// a near-miss of a setting that is set are not warned of.
func TestRcDominoNearMisses(t *testing.T) {
	body := "DOMINO_USER=notes\n" +
		"DOMINO_SHUTDOWN_TIMOUT=300\n" + // a letter left out
		"DOMINO_LANG=en_US.UTF-8\n" +
		"DOMINO_UMASK=0077\n" +
		"DOMINO_PID_FILE=/tmp/domino.pid\n" +
		"DOMINO_CONFIGURED=yes\n" +
		"DOMINO_NDS_BEFORE_KILL=yes\n" + // two letters swapped
		"DOMINO_DATA_PAHT=/local/notesdata\n" +
		"DOMINO_USRE=other\n" + // DOMINO_USER is set: not the one meant
		"export domino_output_log=/tmp/x.log\n" // lower case
	d, err := ParseRcDomino("/etc/sysconfig/rc_domino_config", []byte(body), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if d.ShutdownTimeout != DefaultShutdownTimeout {
		t.Errorf("shutdown timeout %s, want the default", d.ShutdownTimeout)
	}
	want := []string{
		"/etc/sysconfig/rc_domino_config:2: DOMINO_SHUTDOWN_TIMOUT is no setting quiesce reads: did you mean DOMINO_SHUTDOWN_TIMEOUT? That one is not set, so its default applies",
		"/etc/sysconfig/rc_domino_config:7: DOMINO_NDS_BEFORE_KILL is no setting quiesce reads: did you mean DOMINO_NSD_BEFORE_KILL? That one is not set, so its default applies",
		"/etc/sysconfig/rc_domino_config:8: DOMINO_DATA_PAHT is no setting quiesce reads: did you mean DOMINO_DATA_PATH? That one is not set, so its default applies",
		"/etc/sysconfig/rc_domino_config:10: domino_output_log is no setting quiesce reads: did you mean DOMINO_OUTPUT_LOG? That one is not set, so its default applies",
	}
	if !reflect.DeepEqual(d.Warnings, want) {
		t.Errorf("warnings\n%s\nwant\n%s", strings.Join(d.Warnings, "\n"), strings.Join(want, "\n"))
	}
	if d, _ := ParseRcDomino("f", []byte("DOMINO_SHUTDOWN_TIMEOUT=300\nLOTUS=/opt/hcl/domino\n"), noEnv); d.Warnings != nil {
		t.Errorf("warnings for a file without a typo: %q", d.Warnings)
	}
}

func TestRcDominoDefaults(t *testing.T) {
	d, err := ParseRcDomino("f", []byte("# nothing set\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if d.User != "notes" || d.Lotus != "/opt/hcl/domino" || d.Data != "/local/notesdata" ||
		d.ShutdownTimeout != 600*time.Second || d.OutputLog != "/local/notesdata/notes.log" {
		t.Fatalf("defaults differ from rc_domino's: %+v", d)
	}
}

func TestRcDominoQuoting(t *testing.T) {
	cases := []struct{ line, want string }{
		{`DOMINO_PRE_SHUTDOWN_COMMAND=plain`, "plain"},
		{`DOMINO_PRE_SHUTDOWN_COMMAND="two words"`, "two words"},
		{`DOMINO_PRE_SHUTDOWN_COMMAND='single $HOME'`, "single $HOME"},
		{`DOMINO_PRE_SHUTDOWN_COMMAND="esc \" \$ \\ done"`, `esc " $ \ done`},
		{`DOMINO_PRE_SHUTDOWN_COMMAND=a\ b`, "a b"},
		{`DOMINO_PRE_SHUTDOWN_COMMAND="a"'b'c`, "abc"},
		{`export DOMINO_PRE_SHUTDOWN_COMMAND=x # comment`, "x"},
		{`  DOMINO_PRE_SHUTDOWN_COMMAND=""`, ""},
		{`DOMINO_PRE_SHUTDOWN_COMMAND="$FROMENV/x"`, "env-value/x"},
		{`DOMINO_PRE_SHUTDOWN_COMMAND=${FROMENV}y`, "env-valuey"},
		{`DOMINO_PRE_SHUTDOWN_COMMAND=cost$`, "cost$"},
	}
	env := func(k string) string {
		if k == "FROMENV" {
			return "env-value"
		}
		return ""
	}
	for _, c := range cases {
		d, err := ParseRcDomino("f", []byte(c.line+"\n"), env)
		if err != nil {
			t.Errorf("%s: %v", c.line, err)
			continue
		}
		if d.PreShutdownCommand != c.want {
			t.Errorf("%s: got %q, want %q", c.line, d.PreShutdownCommand, c.want)
		}
	}
}

func TestRcDominoExpandsEarlierVariables(t *testing.T) {
	src := "BASE=/srv\nDOMINO_DATA_PATH=$BASE/notesdata\nLOTUS=${BASE}/domino\n"
	d, err := ParseRcDomino("f", []byte(src), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if d.Data != "/srv/notesdata" || d.Lotus != "/srv/domino" {
		t.Fatalf("got data %q lotus %q", d.Data, d.Lotus)
	}
}

func TestRcDominoRefusesCode(t *testing.T) {
	cases := []struct{ src, key, msg string }{
		{"LOTUS=$(rm -rf /)\n", "LOTUS", "command substitution"},
		{"LOTUS=\"`id`\"\n", "LOTUS", "command substitution"},
		{"LOTUS=`id`\n", "LOTUS", "not allowed"},
		{"LOTUS=/opt; rm -rf /\n", "LOTUS", "not allowed"},
		{"if [ -x /bin/true ]; then\n", "", "not a variable assignment"},
		{"rm -rf /tmp/x\n", "", "not a variable assignment"},
		{"DOMINO_USER=notes other\n", "DOMINO_USER", "after the value"},
		{"LOTUS=\"/opt\n", "LOTUS", "unterminated"},
		// the shell joins the next line to the value: quiesce would read
		// another value than rc_domino does
		{"LOTUS=/opt/hcl/\\\n", "LOTUS", "continues the value on the next line"},
	}
	for _, c := range cases {
		_, err := ParseRcDomino("/etc/sysconfig/rc_domino_config", []byte("# head\n"+c.src), noEnv)
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("%q: want *Error, got %v", c.src, err)
			continue
		}
		if ce.Line != 2 || ce.Key != c.key || !strings.Contains(ce.Msg, c.msg) {
			t.Errorf("%q: got %v (line %d key %q)", c.src, err, ce.Line, ce.Key)
		}
	}
}

// Of two bad settings the first is reported, every time (found by
// FuzzParseRcDomino: the settings were checked in map order).
func TestRcDominoFirstBadSetting(t *testing.T) {
	src := "DOMINO_PRE_SHUTDOWN_DELAY=y\nLOTUS=rel\nDOMINO_SHUTDOWN_TIMEOUT=x\nDOMINO_USER=notes\n"
	for i := 0; i < 20; i++ {
		if _, err := ParseRcDomino("cfg", []byte(src), noEnv); err == nil || !strings.HasPrefix(err.Error(), "cfg:1: DOMINO_PRE_SHUTDOWN_DELAY: ") {
			t.Fatalf("reading %d: %v, want the error of line 1", i+1, err)
		}
	}
}

func TestRcDominoBadValues(t *testing.T) {
	cases := []struct{ src, key string }{
		{"DOMINO_SHUTDOWN_TIMEOUT=3m\n", "DOMINO_SHUTDOWN_TIMEOUT"},
		{"DOMINO_SHUTDOWN_TIMEOUT=-1\n", "DOMINO_SHUTDOWN_TIMEOUT"},
		{"DOMINO_SHUTDOWN_TIMEOUT=9223372037\n", "DOMINO_SHUTDOWN_TIMEOUT"}, // seconds beyond a time.Duration (found by FuzzParseRcDomino)
		{"LOTUS=opt/hcl\n", "LOTUS"},
		{"DOMINO_NSD_BEFORE_KILL=maybe\n", "DOMINO_NSD_BEFORE_KILL"},
	}
	for _, c := range cases {
		_, err := ParseRcDomino("cfg", []byte("X=1\n"+c.src), noEnv)
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != c.key || ce.Line != 2 {
			t.Errorf("%q: got %v", c.src, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "cfg:2: "+c.key+": ") {
			t.Errorf("%q: message %q does not name file, line and key", c.src, err)
		}
	}
}

func TestNative(t *testing.T) {
	src := `# quiesce
log_file = /var/log/q.log

[domino]
user = domino
lotus = /opt/ibm/domino
data = "/srv/notesdata"
shutdown_timeout = 3m
start_timeout = 90
kill_wait = 2s
nsd_before_kill = yes
pre_shutdown_command = tell traveler shutdown
pre_shutdown_delay = 5s
nrpc_port = 1353
manager = systemd
unit = hcl-domino.service

[freeze]
state_dir = /srv/quiesce-state
forced_stop = continue
lock_wait = 90s
watchdog_margin = 2m

[budgets]
veeam = 8m
arcserve = 20m
qemu_thaw = 10s
vmware_snapshot = 4m
vmware_thaw = 5m
`
	d, err := ParseNative("q.conf", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := File{Source: "q.conf", HasDomino: true, LogFile: "/var/log/q.log",
		Domino: Domino{User: "domino", Lotus: "/opt/ibm/domino", Data: "/srv/notesdata",
			ShutdownTimeout: 3 * time.Minute, StartTimeout: 90 * time.Second, KillWait: 2 * time.Second,
			NsdBeforeKill: true, PreShutdownCommand: "tell traveler shutdown", PreShutdownDelay: 5 * time.Second,
			OutputLog: "/srv/notesdata/domino.log", InputFile: "/srv/notesdata/domino.input", Port: 1353,
			Manager: ManagerSystemd, Unit: "hcl-domino.service"},
		Freeze: Freeze{StateDir: "/srv/quiesce-state", ForcedStop: ForcedStopContinue, Crashed: CrashedFail, LockWait: 90 * time.Second, WatchdogMargin: 2 * time.Minute},
		Online: DefaultOnline,
		Budgets: Budgets{Veeam: 8 * time.Minute, Arcserve: 20 * time.Minute, QemuThaw: 10 * time.Second,
			VMwareSnapshot: 4 * time.Minute, VMwareThaw: 5 * time.Minute}}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("got  %+v\nwant %+v", d, want)
	}
	if d.Budgets.Thaw("qemu") != 10*time.Second || d.Budgets.Thaw("veeam") != 0 || d.Budgets.Snapshot("vmware") != 4*time.Minute || d.Budgets.Snapshot("qemu") != 0 {
		t.Fatalf("thaw/snapshot lookups: %+v", d.Budgets)
	}
}

func TestNativeErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"[domino]\nusr = notes\n", "q.conf:2: domino.usr: unknown key"},
		{"[domino]\nshutdown_timeout = soon\n", "q.conf:2: domino.shutdown_timeout: \"soon\" is not a duration"},
		{"[domino]\nnrpc_port = 70000\n", "q.conf:2: domino.nrpc_port: \"70000\" is not a port"},
		{"[domino]\nuser = a\nuser = b\n", "q.conf:3: domino.user: set twice (first on line 2)"},
		{"[dominoo]\n", "q.conf:1: [dominoo]: unknown section"},
		{"[domino\n", "q.conf:1: bad section header"},
		{"[domino]\njust words\n", "q.conf:2: expected \"key = value\""},
		{"user = notes\n", "q.conf:1: user: unknown key"},
		{"log_file = /x.log\n", "q.conf: no application configured"},
		{"[domino]\n[domino]\n", "q.conf:2: [domino]: section repeated (first on line 1)"},
		{"[domino]\nuser = notes # the OS user\nlotus = /opt/x#y\nbogus = 1 # c\n", "q.conf:4: domino.bogus: unknown key"},
		{"[domino]\ndata = relative/dir\n", "q.conf:2: domino.data: \"relative/dir\" is not an absolute path"},
		{"[freeze]\nforced_stop = maybe\n", "q.conf:2: freeze.forced_stop: \"maybe\" is not one of fail, continue"},
		{"[budgets]\nhyperv = 5m\n", "q.conf:2: budgets.hyperv: unknown key"},
		// found by FuzzParseNative: seconds beyond a time.Duration wrapped
		// to a negative timeout
		{"[domino]\nshutdown_timeout = 9223372037\n", "q.conf:2: domino.shutdown_timeout: \"9223372037\" is too long"},
	}
	for _, c := range cases {
		_, err := ParseNative("q.conf", []byte(c.src))
		var ce *Error
		if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: got %v, want prefix %q", c.src, err, c.want)
		}
	}
}

// A line too long for the scanner is a *Error that names the file and
// the line, in both formats (found by FuzzParseNative: it was the
// scanner's bare error).
func TestLineTooLong(t *testing.T) {
	long := strings.Repeat("x", 70000)
	_, native := ParseNative("q.conf", []byte("[domino]\nuser = "+long+"\n"))
	_, rc := ParseRcDomino("rc", []byte("X=1\nLOTUS=/"+long+"\n"), noEnv)
	for _, c := range []struct {
		err  error
		want string
	}{{native, "q.conf:2: line longer than 64 KiB"}, {rc, "rc:2: line longer than 64 KiB"}} {
		var ce *Error
		if !errors.As(c.err, &ce) || c.err.Error() != c.want {
			t.Errorf("got %v (%T), want %s", c.err, c.err, c.want)
		}
	}
}

func TestFormatDetection(t *testing.T) {
	cases := map[string]bool{
		"# c\nDOMINO_USER=notes\n": true,
		"export LOTUS=/opt\n":      true,
		"export DOMINO_LANG\n":     true,
		"[domino]\nuser = x\n":     false,
		"log_file = /x\n":          false,
		"":                         false,
	}
	for src, want := range cases {
		if got := IsRcDominoConfig([]byte(src)); got != want {
			t.Errorf("%q: got %v want %v", src, got, want)
		}
	}
}

func TestLoadMissingAndUnreadable(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.conf"))
	var ce *Error
	if !errors.As(err, &ce) || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "file not found") {
		t.Fatalf("got %v", err)
	}
}

func TestFind(t *testing.T) {
	if p, err := Find("/x/y.conf", DefaultPaths); err != nil || p != "/x/y.conf" {
		t.Fatalf("explicit path: %q %v", p, err)
	}
	dir := t.TempDir()
	second := filepath.Join(dir, "b")
	if err := os.WriteFile(second, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if p, err := Find("", []string{filepath.Join(dir, "a"), second}); err != nil || p != second {
		t.Fatalf("first existing default: %q %v", p, err)
	}
	if _, err := Find("", []string{filepath.Join(dir, "a"), filepath.Join(dir, "c")}); !errors.Is(err, ErrNoConfig) {
		t.Fatalf("none exists: %v", err)
	}
	// The package's example, all comments, is passed over, and the
	// message says that it exists and why it was not read.
	example := filepath.Join(dir, "quiesce.conf")
	if err := os.WriteFile(example, []byte("# [domino]\n# user = notes\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Find("", []string{example, filepath.Join(dir, "rc_domino_config")})
	want := "no configuration file: " + example + " holds only comments (the example the package installs: uncomment and fill in its settings), " +
		filepath.Join(dir, "rc_domino_config") + " does not exist; name one with --config"
	if !errors.Is(err, ErrNoConfig) || err.Error() != want {
		t.Fatalf("all-comments example: %v\nwant %s", err, want)
	}
	_, err = Find("", []string{filepath.Join(dir, "only")})
	var ce *Error
	if !errors.As(err, &ce) || ce.File != filepath.Join(dir, "only") {
		t.Fatalf("single default: %v", err)
	}
}

func TestUnsafeConfigRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "quiesce.conf")
	if err := os.WriteFile(path, []byte("[domino]\nuser = notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "chmod go-w "+path) {
		t.Fatalf("world-writable config: %v", err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Fatalf("0644 config: %v", err)
	}
	if os.Geteuid() == 0 {
		if err := os.Chown(path, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path); !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "chown root") {
			t.Fatalf("config owned by nobody, run as root: %v", err)
		}
	}
}

func TestTargets(t *testing.T) {
	src := `[target cache]
manager = commands
user = redis
start = ["/usr/bin/redis-server", "/etc/redis/redis.conf"]
stop = ["/usr/bin/redis-cli", "shutdown"]
process_path = /usr/bin/redis-server
process_names = redis-server
ready_tcp = 127.0.0.1:6379
ready_log = /var/log/redis/redis-server.log: Ready to accept connections
stop_timeout = 60s
order = 20

[target db]
manager = systemd
unit = postgresql@15-main.service
process_path = /usr/lib/postgresql/15/bin/
ready_command = ["/usr/bin/pg_isready", "-q"]
ready_http = http://127.0.0.1:8008/health
order = 10
`
	d, err := ParseNative("apps.conf", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if d.HasDomino || len(d.Targets) != 2 || d.Targets[0].Name != "db" || d.Targets[1].Name != "cache" {
		t.Fatalf("targets %+v", d.Targets)
	}
	c := d.Targets[1]
	if c.Manager != ManagerCommands || c.User != "redis" || len(c.Start) != 2 || c.Stop[1] != "shutdown" || c.ProcessNames[0] != "redis-server" ||
		c.ReadyTCP[0] != "127.0.0.1:6379" || c.ReadyLogText != "Ready to accept connections" || c.StopTimeout != time.Minute || c.Line != 1 {
		t.Fatalf("cache %+v", c)
	}
	if db := d.Targets[0]; db.Unit != "postgresql@15-main.service" || db.ReadyCommand[0] != "/usr/bin/pg_isready" || db.StartTimeout != 5*time.Minute {
		t.Fatalf("db %+v", db)
	}
}

func TestTargetErrors(t *testing.T) {
	base := "[target app]\nmanager = commands\nstart = [\"/bin/app\"]\nstop = [\"/bin/app\", \"stop\"]\nprocess_path = /bin/app\nready_tcp = 127.0.0.1:1\n"
	cases := []struct{ src, want string }{
		{base + "start_cmd = x\n", "q.conf:7: target app.start_cmd: unknown key"},
		{strings.Replace(base, `start = ["/bin/app"]`, "start = /bin/app --daemon", 1), "q.conf:3: target app.start: /bin/app --daemon is not a command as a JSON list"},
		{strings.Replace(base, `start = ["/bin/app"]`, `start = ["app"]`, 1), "q.conf:3: target app.start: \"app\": name the program by its absolute path"},
		{strings.Replace(base, "manager = commands\n", "", 1), "q.conf:1: target app.manager: missing"},
		{strings.Replace(base, "process_path = /bin/app\n", "", 1), "q.conf:1: target app.process_path: say which processes"},
		{strings.Replace(base, "ready_tcp = 127.0.0.1:1\n", "", 1), "q.conf:1: target app.ready_tcp: say how to know it serves"},
		{strings.Replace(base, "ready_tcp = 127.0.0.1:1", "ready_tcp = localhost", 1), "q.conf:6: target app.ready_tcp: \"localhost\" is not HOST:PORT"},
		{strings.Replace(base, "manager = commands", "manager = systemd", 1), "q.conf:1: target app.unit: the systemd manager needs the unit name"},
		{"[target Bad/Name]\n", "q.conf:1: [target Bad/Name]: unknown section"},
		{"[domino]\n" + strings.Replace(base, "[target app]", "[target domino]", 1), "q.conf:2: [target domino]: a second application with this name"},
	}
	for _, c := range cases {
		_, err := ParseNative("q.conf", []byte(c.src))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("got %v\nwant %s", err, c.want)
		}
	}
}

// Every example configuration shipped in docs/examples parses.
func TestShippedExamples(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "docs", "examples", "*.conf"))
	if len(files) < 4 {
		t.Fatalf("examples: %v", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d, err := ParseNative(f, b)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if strings.HasSuffix(f, "domino-windows.conf") && (!d.HasDomino || d.Lotus != `C:\Program Files\HCL\Domino` ||
			d.Data != `C:\Program Files\HCL\Domino\Data` || d.Service != "Lotus Domino Server (LotusDominoData)") {
			t.Errorf("windows: Domino as a service with its program and data directories: %+v", d)
		}
	}
}

func TestInlineComments(t *testing.T) {
	d, err := ParseNative("q.conf", []byte("[domino]\nuser = notes   # the OS user\nlotus = \"/opt/a # b\"\npre_shutdown_command = tell http quit#now\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d.User != "notes" || d.Lotus != "/opt/a # b" || d.PreShutdownCommand != "tell http quit#now" {
		t.Fatalf("%q %q %q", d.User, d.Lotus, d.PreShutdownCommand)
	}
}

func TestWindowsDominoKeys(t *testing.T) {
	d, err := ParseNative("q.conf", []byte("[domino]\nmanager = service\nservice = Lotus Domino Server (LotusDominoData)\nvss_stand_aside = Veeam, vmware\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Manager != ManagerService || d.Service != "Lotus Domino Server (LotusDominoData)" || strings.Join(d.VSSStandAside, ",") != "veeam,vmware" {
		t.Fatalf("%+v", d)
	}
	_, err = ParseNative("q.conf", []byte("[domino]\nvss_stand_aside = qemu\n"))
	if err == nil || !strings.Contains(err.Error(), "q.conf:2: domino.vss_stand_aside: \"qemu\" is not a VSS-aware caller") {
		t.Fatalf("got %v", err)
	}
}

func TestCloudBudgets(t *testing.T) {
	d, err := ParseNative("q.conf", []byte("[domino]\n[budgets]\ngcp = 45\nnutanix_thaw = 2m\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Budgets.Get("gcp") != 45*time.Second || d.Budgets.Thaw("nutanix") != 2*time.Minute || d.Budgets.Get("nutanix") != 0 || d.Budgets.Thaw("gcp") != 0 {
		t.Fatalf("%+v", d.Budgets)
	}
	if _, err := ParseNative("q.conf", []byte("[budgets]\ngcpp = 45\n")); err == nil {
		t.Fatal("a misspelt caller was accepted")
	}
}
