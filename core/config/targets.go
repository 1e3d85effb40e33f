package config

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Generic is an application without a VSS writer or an online backup
// mode, described in a [target NAME] section: how it is managed, which
// processes are its own, how to know it serves.
//
//	[target cache]
//	manager = commands                       # commands | systemd | service
//	user = redis
//	start = ["/usr/bin/redis-server", "/etc/redis/redis.conf"]
//	stop = ["/usr/bin/redis-cli", "shutdown"]
//	process_path = /usr/bin/redis-server     # executable path or directory prefix
//	process_names = redis-server
//	ready_tcp = 127.0.0.1:6379
//	stop_timeout = 60s
type Generic struct {
	Name         string
	Line         int    // the section header's line, for messages
	Manager      string // ManagerCommands, ManagerSystemd or ManagerService
	User         string // OS user owning the processes and running the commands; "" for any
	Start, Stop  []string
	Unit         string // systemd unit
	Service      string // Windows service name
	ProcessPaths []string
	ProcessNames []string
	ReadyTCP     []string
	ReadyHTTP    []string
	ReadyLogFile string
	ReadyLogText string
	ReadyCommand []string
	StopTimeout  time.Duration
	StartTimeout time.Duration
	KillWait     time.Duration
	Order        int
	Method       string   // MethodStop (the default), MethodOnline or MethodAuto, for kinds that have an online mode
	Kind         string   // "" for an application quiesce stops; KindPostgreSQL or KindMariaDB
	DB           Database // with a Kind: how to reach the database server
}

// Managers of Domino: auto uses systemd when a unit runs (or can run) it.
const (
	ManagerAuto   = "auto"
	ManagerDirect = "direct"
)

// Managers of a generic target.
const (
	ManagerCommands = "commands" // start and stop commands (SysV scripts, pg_ctl, ...)
	ManagerSystemd  = "systemd"  // systemctl start/stop UNIT
	ManagerService  = "service"  // a Windows service through the SCM
)

type targetSetter func(g *Generic, v string) string

var targetKeys = map[string]targetSetter{
	"manager": func(g *Generic, v string) string {
		return pick(&g.Manager, v, ManagerCommands, ManagerSystemd, ManagerService)
	},
	"user":          func(g *Generic, v string) string { g.User = v; return "" },
	"method":        func(g *Generic, v string) string { return pick(&g.Method, v, MethodStop, MethodOnline, MethodAuto) },
	"start":         func(g *Generic, v string) string { return argList(&g.Start, v) },
	"stop":          func(g *Generic, v string) string { return argList(&g.Stop, v) },
	"unit":          func(g *Generic, v string) string { g.Unit = v; return "" },
	"service":       func(g *Generic, v string) string { g.Service = v; return "" },
	"process_path":  func(g *Generic, v string) string { return absList(&g.ProcessPaths, v) },
	"process_names": func(g *Generic, v string) string { g.ProcessNames = words(v); return "" },
	"ready_tcp":     func(g *Generic, v string) string { return tcpList(&g.ReadyTCP, v) },
	"ready_http":    func(g *Generic, v string) string { return urlList(&g.ReadyHTTP, v) },
	"ready_log":     func(g *Generic, v string) string { return logLine(g, v) },
	"ready_command": func(g *Generic, v string) string { return argList(&g.ReadyCommand, v) },
	"stop_timeout":  func(g *Generic, v string) string { return dur(&g.StopTimeout, v) },
	"start_timeout": func(g *Generic, v string) string { return dur(&g.StartTimeout, v) },
	"kill_wait":     func(g *Generic, v string) string { return dur(&g.KillWait, v) },
	"order": func(g *Generic, v string) string {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Sprintf("%q is not a whole number", v)
		}
		g.Order = n
		return ""
	},
}

func newGeneric(name string, line int) *Generic {
	return &Generic{Name: name, Line: line, StopTimeout: 5 * time.Minute, StartTimeout: 5 * time.Minute, KillWait: DefaultKillWait}
}

// validate checks that a target section says enough to be managed.
func (g *Generic) validate(file string) error {
	bad := func(key, msg string) error {
		return &Error{File: file, Line: g.Line, Key: "target " + g.Name + "." + key, Msg: msg}
	}
	if err := g.validateDatabase(file); err != nil {
		return err
	}
	if g.IsDatabase() && g.Manager == "" {
		return nil // frozen online only: nothing to stop or start
	}
	switch g.Manager {
	case "":
		return bad("manager", "missing (commands, systemd or service)")
	case ManagerCommands:
		if len(g.Start) == 0 || len(g.Stop) == 0 {
			return bad("start", "the commands manager needs start and stop")
		}
	case ManagerSystemd:
		if g.Unit == "" {
			return bad("unit", "the systemd manager needs the unit name")
		}
	case ManagerService:
		if g.Service == "" && len(g.ProcessPaths) == 0 {
			return bad("service", "name the Windows service, or give process_path so it can be discovered")
		}
	}
	if len(g.ProcessPaths) == 0 && len(g.ProcessNames) == 0 {
		return bad("process_path", "say which processes are the application's: process_path and/or process_names")
	}
	if len(g.ReadyTCP)+len(g.ReadyHTTP)+len(g.ReadyCommand) == 0 && g.ReadyLogFile == "" {
		return bad("ready_tcp", "say how to know it serves: ready_tcp, ready_http, ready_log or ready_command")
	}
	return nil
}

// sortTargets orders targets by their order key, then as written.
func sortTargets(ts []Generic) {
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Order < ts[j].Order })
}

func pick(field *string, v string, allowed ...string) string {
	for _, a := range allowed {
		if v == a {
			*field = v
			return ""
		}
	}
	return fmt.Sprintf("%q is not one of %s", v, strings.Join(allowed, ", "))
}

// argList parses a command as a JSON list of strings: it is run as it
// is, never through a shell.
func argList(field *[]string, v string) string {
	var args []string
	if err := json.Unmarshal([]byte(v), &args); err != nil || len(args) == 0 || args[0] == "" {
		return fmt.Sprintf("%s is not a command as a JSON list of strings, like [\"/usr/bin/pg_ctl\", \"start\"] (commands never run through a shell)", v)
	}
	if !isAbs(args[0]) {
		return fmt.Sprintf("%q: name the program by its absolute path", args[0])
	}
	*field = args
	return ""
}

func words(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}

// absList parses comma-separated absolute paths (paths may hold spaces:
// C:\Program Files\...). Windows paths are accepted on every platform so a
// configuration can be checked anywhere.
func absList(field *[]string, v string) string {
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if !isAbs(p) {
			return fmt.Sprintf("%q is not an absolute path", p)
		}
		*field = append(*field, filepath.Clean(p))
	}
	return ""
}

// isAbs accepts this platform's absolute paths and Windows drive paths.
func isAbs(p string) bool {
	if filepath.IsAbs(p) {
		return true
	}
	return len(p) >= 3 && (p[0]|0x20) >= 'a' && (p[0]|0x20) <= 'z' && p[1] == ':' && (p[2] == '\\' || p[2] == '/')
}

func tcpList(field *[]string, v string) string {
	for _, a := range words(v) {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return fmt.Sprintf("%q is not HOST:PORT", a)
		}
		*field = append(*field, a)
	}
	return ""
}

func urlList(field *[]string, v string) string {
	for _, u := range words(v) {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Sprintf("%q is not an http(s) URL", u)
		}
		*field = append(*field, u)
	}
	return ""
}

// logLine parses "FILE: TEXT".
func logLine(g *Generic, v string) string {
	file, text, ok := strings.Cut(v, ": ")
	if !ok || !isAbs(file) || strings.TrimSpace(text) == "" {
		return fmt.Sprintf("%q is not \"/path/to/file: text of the line\"", v)
	}
	g.ReadyLogFile, g.ReadyLogText = file, strings.TrimSpace(text)
	return ""
}

func dur(field *time.Duration, v string) string {
	d, err := ParseDuration(v)
	if err != nil {
		return err.Error()
	}
	*field = d
	return ""
}
