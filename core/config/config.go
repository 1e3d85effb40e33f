// Package config reads the description of what quiesce manages (a Domino
// server and other applications): quiesce's own configuration file, or an
// existing rc_domino_config read as data (never executed). Both are
// validated strictly: an error names the file, the line and the key.
package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// File is one configuration file: quiesce's own, or an rc_domino_config
// read as data. It holds the Domino server (when HasDomino), the other
// applications ([target NAME] sections), and the settings of freezes.
type File struct {
	Source    string // file the configuration came from
	RcFormat  bool   // Source is an rc_domino_config
	LogFile   string // quiesce's own JSON log; "" for the default
	HasDomino bool   // a Domino server is configured ([domino], or an rc_domino_config)
	Domino           // the Domino server, when HasDomino
	Freeze    Freeze
	Online    Online
	Budgets   Budgets
	Metrics   Metrics
	Cluster   *Cluster  // the Domino cluster the server belongs to ([cluster]); nil: none
	Targets   []Generic // other applications, in start order
	// Warnings about the file that are no error, each "FILE:LINE: what":
	// an rc_domino_config variable that looks like a misspelt setting.
	// The command line logs them and check prints them.
	Warnings []string
}

// Metrics: where quiesce leaves numbers for monitoring.
type Metrics struct {
	// TextfileDir is node_exporter's textfile collector directory:
	// quiesce.prom is written there after every operation; "" for none.
	TextfileDir string
	// OutageBudget is the longest outage a stop-mode freeze should cause,
	// from the stop to serving again: written beside the outage, for the
	// fleet's alert (scripts/fleet); 0: DefaultOutageBudget.
	OutageBudget time.Duration
}

// DefaultOutageBudget is [metrics] outage_budget's default.
const DefaultOutageBudget = 10 * time.Minute

// Domino is the configuration of one Domino server (on Linux, or on
// Windows as a service).
type Domino struct {
	User               string        // DOMINO_USER: the server's OS user
	Lotus              string        // LOTUS: program directory
	Data               string        // DOMINO_DATA_PATH: data directory
	ShutdownTimeout    time.Duration // graceful wait before nsd -kill
	StartTimeout       time.Duration // how long start waits for readiness
	KillWait           time.Duration // wait after each escalation step
	NsdBeforeKill      bool          // run a full nsd before nsd -kill
	PreShutdownCommand string        // console command sent before "server -q"
	PreShutdownDelay   time.Duration // wait after PreShutdownCommand
	OutputLog          string        // server standard output and error
	InputFile          string        // server standard input
	Port               int           // NRPC port; 0: from notes.ini, else 1352
	Manager            string        // ManagerAuto, ManagerDirect, ManagerSystemd or ManagerService
	Unit               string        // the systemd unit running Domino
	Service            string        // Windows: the service running Domino; "" to discover it
	VSSStandAside      []string      // callers for which a configured Domino VSS writer (backupvss) makes the stop unneeded
}

// Online settings: freezing a running Domino through Domino Backup's
// snapshot mode instead of stopping it.
type Online struct {
	Method         string        // MethodAuto, MethodOnline or MethodStop
	EnterTimeout   time.Duration // every database in backup mode by then
	MaxWindow      time.Duration // backup mode never lasts longer (below the 120 s HCL's scripts allow; Domino documents no limit)
	ReleaseTimeout time.Duration // thaw: backup mode ended and deltas written by then
	DeltaDir       string        // BackupTargetDirDb of dominobackup.nsf; "" when not told
}

// DefaultOnline: HCL's scripts allow 120 s to enter backup mode, and give
// up on the snapshot after 120 s (Domino documents no limit of its own):
// backup mode ends before.
var DefaultOnline = Online{Method: MethodAuto, EnterTimeout: 120 * time.Second, MaxWindow: 100 * time.Second, ReleaseTimeout: 120 * time.Second}

// Freeze methods.
const (
	MethodAuto   = "auto"
	MethodOnline = "online"
	MethodStop   = "stop"
)

// Freeze settings: how freezes are recorded and guarded.
type Freeze struct {
	StateDir       string        // "" for the platform default
	ForcedStop     string        // ForcedStopFail or ForcedStopContinue
	Crashed        string        // CrashedFail or CrashedAccept
	LockWait       time.Duration // how long a second invocation waits for the first
	WatchdogMargin time.Duration // added to the caller's budget to make a freeze's deadline
	Deadline       time.Duration // fixed time a freeze may last; 0: the caller's budget + WatchdogMargin
}

// What a freeze does when the application could only be stopped by killing
// it: its databases may not have been closed.
const (
	ForcedStopFail     = "fail"     // restart the application, report the freeze failed
	ForcedStopContinue = "continue" // keep it stopped, report success with a warning
)

// What a freeze does when the application is found crashed: not running,
// but not shut down cleanly either (Domino's ~notes.lck, pid.nbf).
const (
	CrashedFail   = "fail"   // refuse: the snapshot would be only crash-consistent
	CrashedAccept = "accept" // take it, with a warning that it is only crash-consistent
)

// Budgets are the time each caller gives one hook invocation; 0 keeps the
// caller's documented default.
type Budgets struct {
	VMware, Veeam, Qemu, Arcserve time.Duration
	// Thaw limits: what each caller gives one thaw (VMware: the part of
	// its one timer kept for the thaw).
	VMwareThaw, VeeamThaw, QemuThaw, ArcserveThaw time.Duration
	VMwareSnapshot                                time.Duration // the snapshot itself, inside VMware's one timer
	// Cloud are the budgets of the cloud and Nutanix callers
	// (CloudCallers): NAME and NAME_thaw; nil when none is set.
	Cloud map[string]time.Duration
}

// Thaw returns the thaw limit configured for a caller name, 0 when unset.
func (b Budgets) Thaw(caller string) time.Duration {
	switch caller {
	case "vmware":
		return b.VMwareThaw
	case "veeam":
		return b.VeeamThaw
	case "qemu":
		return b.QemuThaw
	case "arcserve":
		return b.ArcserveThaw
	}
	return b.Cloud[caller+"_thaw"]
}

// Snapshot returns the snapshot estimate configured for a caller whose
// timer covers the snapshot, 0 when unset.
func (b Budgets) Snapshot(caller string) time.Duration {
	if caller == "vmware" {
		return b.VMwareSnapshot
	}
	return 0
}

// Get returns the budget configured for a caller name, 0 when unset.
func (b Budgets) Get(caller string) time.Duration {
	switch caller {
	case "vmware":
		return b.VMware
	case "veeam":
		return b.Veeam
	case "qemu":
		return b.Qemu
	case "arcserve":
		return b.Arcserve
	}
	return b.Cloud[caller]
}

// Defaults as the rc_domino start script has them.
const (
	DefaultUser            = "notes"
	DefaultLotus           = "/opt/hcl/domino"
	DefaultData            = "/local/notesdata"
	DefaultShutdownTimeout = 600 * time.Second
	DefaultStartTimeout    = 10 * time.Minute
	DefaultKillWait        = 10 * time.Second
	DefaultLockWait        = 5 * time.Minute
	DefaultWatchdogMargin  = 5 * time.Minute
)

// Paths tried, in order, when no configuration file is named.
var DefaultPaths = []string{"/etc/quiesce/quiesce.conf", RcDominoConfig}

// RcDominoConfig is where the rc_domino start script keeps its settings.
const RcDominoConfig = "/etc/sysconfig/rc_domino_config"

// ErrUnsafe marks a configuration or hook file others could change.
var ErrUnsafe = errors.New("unsafe file")

// ErrNoConfig means no configuration file was named and none of the
// default paths exists.
var ErrNoConfig = errors.New("no configuration file")

// Error is a configuration error at a place in a file.
type Error struct {
	File string
	Line int    // 0 when the error is not tied to a line
	Key  string // "" when the error is not tied to a key
	Msg  string
	Err  error // underlying cause, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, ": %s", e.Key)
	}
	fmt.Fprintf(&b, ": %s", e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

func defaults(source string) File {
	return File{
		Source: source,
		Domino: Domino{User: DefaultUser, Lotus: DefaultLotus, Data: DefaultData,
			ShutdownTimeout: DefaultShutdownTimeout, StartTimeout: DefaultStartTimeout,
			KillWait: DefaultKillWait, Manager: ManagerAuto, Unit: "domino.service"},
		Freeze: Freeze{ForcedStop: ForcedStopFail, Crashed: CrashedFail, LockWait: DefaultLockWait, WatchdogMargin: DefaultWatchdogMargin},
		Online: DefaultOnline,
	}
}

// Find returns path when it is not empty, else the first of defaults that
// exists. A default that holds nothing but comments (the example a package
// installs) is passed over when another default follows.
func Find(path string, defaults []string) (string, error) {
	if path != "" {
		return path, nil
	}
	for i, p := range defaults {
		if _, err := os.Stat(p); err == nil && (i == len(defaults)-1 || !commentsOnly(p)) {
			return p, nil
		}
	}
	if len(defaults) == 1 {
		return "", &Error{File: defaults[0], Msg: "file not found", Err: os.ErrNotExist}
	}
	tried := make([]string, len(defaults))
	for i, p := range defaults {
		tried[i] = p + " does not exist"
		if commentsOnly(p) {
			tried[i] = p + " holds only comments (the example the package installs: uncomment and fill in its settings)"
		}
	}
	return "", fmt.Errorf("%w: %s; name one with --config", ErrNoConfig, strings.Join(tried, ", "))
}

// Load reads path in whichever format it is written, safely (ReadSafe):
// nothing of a file others could change is used.
func Load(path string) (File, error) {
	b, err := ReadSafe(path)
	if err != nil {
		return File{}, err
	}
	if IsRcDominoConfig(b) {
		return ParseRcDomino(path, b, os.Getenv)
	}
	return ParseNative(path, b)
}

// scanError is the error of a scanner that stopped at line n.
func scanError(file string, n int, err error) error {
	msg := err.Error()
	if errors.Is(err, bufio.ErrTooLong) {
		msg = "line longer than 64 KiB"
	}
	return &Error{File: file, Line: n, Msg: msg, Err: err}
}

func readMsg(err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "file not found"
	case errors.Is(err, os.ErrPermission):
		return "permission denied"
	}
	return err.Error()
}

var shellAssign = regexp.MustCompile(`^(export\s+)?[A-Z_][A-Z0-9_]*(=|\s*$)`)

// IsRcDominoConfig reports whether b is written as shell assignments (an
// rc_domino_config): its first meaningful line is "NAME=..." or
// "export NAME..." with an upper-case name. quiesce's own format starts
// with a [section] or a lower-case key.
func IsRcDominoConfig(b []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		return shellAssign.MatchString(line)
	}
	return false
}

// Setting names a setting independently of the file format.
type Setting int

// Settings that validation against the system can find wrong.
const (
	SetUser Setting = iota
	SetLotus
	SetData
	SetShutdownTimeout
	SetService
)

// Key returns how the setting is spelled in d's source file, for messages.
func (d File) Key(s Setting) string {
	rc := [...]string{"DOMINO_USER", "LOTUS", "DOMINO_DATA_PATH", "DOMINO_SHUTDOWN_TIMEOUT", "domino.service"}
	native := [...]string{"domino.user", "domino.lotus", "domino.data", "domino.shutdown_timeout", "domino.service"}
	if d.RcFormat {
		return rc[s]
	}
	return native[s]
}

// defaultLogs fills the output and input files as rc_domino does.
func (d *File) defaultLogs() {
	if d.OutputLog == "" {
		d.OutputLog = filepath.Join(d.Data, d.User+".log")
	}
	if d.InputFile == "" {
		d.InputFile = filepath.Join(d.Data, d.User+".input")
	}
}
