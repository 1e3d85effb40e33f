package config

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The native format: "key = value" lines, "#" comments, and sections.
//
//	log_file = /var/log/quiesce/quiesce.log
//
//	[domino]
//	user = notes
//	lotus = /opt/hcl/domino
//	data = /local/notesdata
//	shutdown_timeout = 180s
//
// Durations are Go durations ("90s", "3m") or whole seconds ("180").

// setter applies one value; it returns a message when the value is bad.
type setter func(d *File, v string) string

var nativeKeys = map[string]map[string]setter{
	"": {
		"log_file": absPath(func(d *File) *string { return &d.LogFile }),
	},
	"domino": {
		"user":                 str(func(d *File) *string { return &d.User }),
		"lotus":                anyAbsPath(func(d *File) *string { return &d.Lotus }),
		"data":                 anyAbsPath(func(d *File) *string { return &d.Data }),
		"shutdown_timeout":     duration(func(d *File) *time.Duration { return &d.ShutdownTimeout }),
		"start_timeout":        duration(func(d *File) *time.Duration { return &d.StartTimeout }),
		"kill_wait":            duration(func(d *File) *time.Duration { return &d.KillWait }),
		"nsd_before_kill":      boolean(func(d *File) *bool { return &d.NsdBeforeKill }),
		"pre_shutdown_command": str(func(d *File) *string { return &d.PreShutdownCommand }),
		"pre_shutdown_delay":   duration(func(d *File) *time.Duration { return &d.PreShutdownDelay }),
		"output_log":           absPath(func(d *File) *string { return &d.OutputLog }),
		"input_file":           absPath(func(d *File) *string { return &d.InputFile }),
		"nrpc_port":            port(func(d *File) *int { return &d.Port }),
		"manager":              oneOf(func(d *File) *string { return &d.Manager }, ManagerAuto, ManagerDirect, ManagerSystemd, ManagerService),
		"unit":                 str(func(d *File) *string { return &d.Unit }),
		"method":               oneOf(func(d *File) *string { return &d.Online.Method }, MethodAuto, MethodOnline, MethodStop),
		"backup_enter_timeout": duration(func(d *File) *time.Duration { return &d.Online.EnterTimeout }),
		"backup_max_window":    duration(func(d *File) *time.Duration { return &d.Online.MaxWindow }),
		"backup_end_timeout":   duration(func(d *File) *time.Duration { return &d.Online.ReleaseTimeout }),
		"delta_dir":            absPath(func(d *File) *string { return &d.Online.DeltaDir }),
		"service":              str(func(d *File) *string { return &d.Service }),
		"vss_stand_aside":      callerList(func(d *File) *[]string { return &d.VSSStandAside }),
	},
	"freeze": {
		"state_dir":       anyAbsPath(func(d *File) *string { return &d.Freeze.StateDir }),
		"forced_stop":     oneOf(func(d *File) *string { return &d.Freeze.ForcedStop }, ForcedStopFail, ForcedStopContinue),
		"crashed":         oneOf(func(d *File) *string { return &d.Freeze.Crashed }, CrashedFail, CrashedAccept),
		"lock_wait":       duration(func(d *File) *time.Duration { return &d.Freeze.LockWait }),
		"watchdog_margin": duration(func(d *File) *time.Duration { return &d.Freeze.WatchdogMargin }),
		"deadline":        duration(func(d *File) *time.Duration { return &d.Freeze.Deadline }),
	},
	"metrics": {
		"textfile_dir":  anyAbsPath(func(d *File) *string { return &d.Metrics.TextfileDir }),
		"outage_budget": duration(func(d *File) *time.Duration { return &d.Metrics.OutageBudget }),
	},
	"budgets": {
		"vmware":          duration(func(d *File) *time.Duration { return &d.Budgets.VMware }),
		"veeam":           duration(func(d *File) *time.Duration { return &d.Budgets.Veeam }),
		"qemu":            duration(func(d *File) *time.Duration { return &d.Budgets.Qemu }),
		"arcserve":        duration(func(d *File) *time.Duration { return &d.Budgets.Arcserve }),
		"vmware_thaw":     duration(func(d *File) *time.Duration { return &d.Budgets.VMwareThaw }),
		"vmware_snapshot": duration(func(d *File) *time.Duration { return &d.Budgets.VMwareSnapshot }),
		"veeam_thaw":      duration(func(d *File) *time.Duration { return &d.Budgets.VeeamThaw }),
		"qemu_thaw":       duration(func(d *File) *time.Duration { return &d.Budgets.QemuThaw }),
		"arcserve_thaw":   duration(func(d *File) *time.Duration { return &d.Budgets.ArcserveThaw }),
	},
}

// ParseNative parses quiesce's own configuration format.
func ParseNative(file string, b []byte) (File, error) {
	d := defaults(file)
	section := ""
	var target *Generic
	seen := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	n := 1
	for ; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") {
			name, err := sectionName(file, n, stripComment(line))
			if err != nil {
				return File{}, err
			}
			if prev, dup := seen["["+name+"]"]; dup {
				return File{}, &Error{File: file, Line: n, Key: "[" + name + "]", Msg: fmt.Sprintf("section repeated (first on line %d)", prev)}
			}
			seen["["+name+"]"] = n
			section, target = name, nil
			if name == "domino" {
				d.HasDomino = true
			}
			if name == "cluster" {
				d.Cluster = newCluster(n)
			}
			if t, ok := strings.CutPrefix(name, "target "); ok {
				d.Targets = append(d.Targets, *newGeneric(t, n))
				target = &d.Targets[len(d.Targets)-1]
			}
			continue
		}
		key, val, ok := strings.Cut(stripComment(line), "=")
		key, val = strings.TrimSpace(key), unquote(strings.TrimSpace(val))
		if !ok || key == "" {
			return File{}, &Error{File: file, Line: n, Msg: fmt.Sprintf("expected \"key = value\", got %q", line)}
		}
		full := qualified(section, key)
		if prev, dup := seen[full]; dup {
			return File{}, &Error{File: file, Line: n, Key: full, Msg: fmt.Sprintf("set twice (first on line %d)", prev)}
		}
		seen[full] = n
		if msg, known := setKey(&d, target, section, key, val); !known {
			return File{}, &Error{File: file, Line: n, Key: full, Msg: "unknown key"}
		} else if msg != "" {
			return File{}, &Error{File: file, Line: n, Key: full, Msg: msg}
		}
	}
	if err := sc.Err(); err != nil {
		return File{}, scanError(file, n, err)
	}
	return d, finish(file, &d)
}

// setKey applies one key; known is false for a key the section lacks.
func setKey(d *File, target *Generic, section, key, val string) (msg string, known bool) {
	if target != nil {
		set, ok := targetKeys[key]
		if !ok {
			set, ok = dbKeys[key]
		}
		if !ok {
			return "", false
		}
		// Targets are appended to d.Targets, so target points into it.
		return set(target, val), true
	}
	set, ok := nativeKeys[section][key]
	if !ok {
		return "", false
	}
	return set(d, val), true
}

// finish validates the whole file once read.
func finish(file string, d *File) error {
	d.defaultLogs()
	names := map[string]bool{}
	if d.HasDomino {
		names["domino"] = true
	}
	for i := range d.Targets {
		g := &d.Targets[i]
		if names[g.Name] {
			return &Error{File: file, Line: g.Line, Key: "[target " + g.Name + "]", Msg: "a second application with this name ([domino] is named domino)"}
		}
		names[g.Name] = true
		if err := g.validate(file); err != nil {
			return err
		}
	}
	if !d.HasDomino && len(d.Targets) == 0 {
		return &Error{File: file, Msg: "no application configured: add a [domino] or a [target NAME] section"}
	}
	if d.Cluster != nil {
		if err := d.Cluster.validate(file, d.HasDomino); err != nil {
			return err
		}
	}
	sortTargets(d.Targets)
	return nil
}

func sectionName(file string, n int, line string) (string, error) {
	if !strings.HasSuffix(line, "]") {
		return "", &Error{File: file, Line: n, Msg: fmt.Sprintf("bad section header %q", line)}
	}
	name := strings.Join(strings.Fields(line[1:len(line)-1]), " ")
	if t, ok := strings.CutPrefix(name, "target "); ok && validName(t) {
		return name, nil
	}
	if _, ok := nativeKeys[name]; !ok || name == "" {
		return "", &Error{File: file, Line: n, Key: "[" + name + "]", Msg: "unknown section (known: [domino], [cluster], [freeze], [budgets], [metrics], [target NAME])"}
	}
	return name, nil
}

// validName: target names become file names in the state directory.
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func qualified(section, key string) string {
	if section == "" {
		return key
	}
	return section + "." + key
}

// stripComment drops a " # comment" after a value; a # inside quotes or
// not preceded by a blank (a URL fragment) is kept.
func stripComment(line string) string {
	quote := byte(0)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote == 0 && c == '#' && i > 0 && (line[i-1] == ' ' || line[i-1] == '\t'):
			return strings.TrimSpace(line[:i])
		}
	}
	return line
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		return v[1 : len(v)-1]
	}
	return v
}

func str(field func(*File) *string) setter {
	return func(d *File, v string) string {
		*field(d) = v
		return ""
	}
}

func absPath(field func(*File) *string) setter {
	return func(d *File, v string) string {
		if !filepath.IsAbs(v) {
			return fmt.Sprintf("%q is not an absolute path", v)
		}
		*field(d) = filepath.Clean(v)
		return ""
	}
}

// anyAbsPath accepts Windows drive paths on every platform (a setting that
// exists on Windows too); a path of this platform is cleaned.
func anyAbsPath(field func(*File) *string) setter {
	return func(d *File, v string) string {
		if !isAbs(v) {
			return fmt.Sprintf("%q is not an absolute path", v)
		}
		if filepath.IsAbs(v) {
			v = filepath.Clean(v)
		}
		*field(d) = v
		return ""
	}
}

// VSSCallers are the callers that can use a VSS writer: Veeam's
// application-aware processing and VMware Tools' VSS quiescing.
var VSSCallers = []string{"vmware", "veeam"}

// callerList parses a list of VSS-aware caller names.
func callerList(field func(*File) *[]string) setter {
	return func(d *File, v string) string {
		var out []string
		for _, w := range words(v) {
			known := false
			for _, c := range VSSCallers {
				known = known || strings.EqualFold(w, c)
			}
			if !known {
				return fmt.Sprintf("%q is not a VSS-aware caller (%s)", w, strings.Join(VSSCallers, ", "))
			}
			out = append(out, strings.ToLower(w))
		}
		*field(d) = out
		return ""
	}
}

// maxSeconds is the longest whole number of seconds a time.Duration
// holds (about 292 years); more would wrap around to a negative duration.
const maxSeconds = math.MaxInt64 / int64(time.Second)

func duration(field func(*File) *time.Duration) setter {
	return func(d *File, v string) string {
		dur, err := ParseDuration(v)
		if err != nil {
			return err.Error()
		}
		*field(d) = dur
		return ""
	}
}

func oneOf(field func(*File) *string, allowed ...string) setter {
	return func(d *File, v string) string {
		for _, a := range allowed {
			if v == a {
				*field(d) = v
				return ""
			}
		}
		return fmt.Sprintf("%q is not one of %s", v, strings.Join(allowed, ", "))
	}
}

func boolean(field func(*File) *bool) setter {
	return func(d *File, v string) string {
		b, ok := ParseBool(v)
		if !ok {
			return fmt.Sprintf("%q is not yes or no", v)
		}
		*field(d) = b
		return ""
	}
}

func port(field func(*File) *int) setter {
	return func(d *File, v string) string {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			return fmt.Sprintf("%q is not a port number (1-65535)", v)
		}
		*field(d) = p
		return ""
	}
}

// ParseDuration accepts whole seconds ("180") or a Go duration ("3m").
func ParseDuration(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("%q is negative", v)
		}
		if int64(n) > maxSeconds {
			return 0, fmt.Errorf("%q is too long (at most %d seconds)", v, maxSeconds)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration (seconds, or like 90s, 3m)", v)
	}
	return d, nil
}

// ParseBool accepts yes/no, true/false, 1/0, on/off.
func ParseBool(v string) (value, ok bool) {
	switch strings.ToLower(v) {
	case "yes", "true", "1", "on":
		return true, true
	case "no", "false", "0", "off", "":
		return false, true
	}
	return false, false
}
