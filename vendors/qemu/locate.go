package qemu

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Where qemu-ga looks for its fsfreeze hook. qemu-ga runs a hook only when
// started with -F[PATH] (--fsfreeze-hook[=PATH]) or when its configuration
// file sets fsfreeze-hook under [general]; the command line wins. Without a
// path it runs its compiled-in default, /etc/qemu/fsfreeze-hook upstream.
// Debian's unit starts qemu-ga without -F (no hook unless qemu-ga.conf sets
// one); RHEL, Rocky and Alma start it with -F${FSFREEZE_HOOK_PATHNAME}
// from /etc/sysconfig/qemu-ga, /etc/qemu-ga/fsfreeze-hook as shipped.
const (
	unitName       = "qemu-guest-agent.service"
	ConfFile       = "/etc/qemu/qemu-ga.conf"
	SysconfigFile  = "/etc/sysconfig/qemu-ga"
	RHELHook       = "/etc/qemu-ga/fsfreeze-hook"
	disabledHookTo = "/dev/null"
)

// unitDirs are searched in systemd's order of precedence.
var unitDirs = []string{"/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"}

// Layout is where the installed qemu-ga runs its fsfreeze hook.
type Layout struct {
	Hook    string // the hook qemu-ga runs (a path on the guest, without the root)
	Source  string // what says so, for messages
	Unit    string // the unit file found, "" when none
	Enabled bool   // qemu-ga will run the hook
	Known   bool   // Enabled comes from qemu-ga's unit or configuration, not a guess
	Reason  string // why qemu-ga will run no hook, when it will not
}

// DropIn is the stock hook's fsfreeze-hook.d, next to the hook.
func (l Layout) DropIn() string { return filepath.Join(filepath.Dir(l.Hook), "fsfreeze-hook.d") }

// Locator finds the layout under Root ("/" on a live guest; a directory
// in tests). CompiledDefault, when set, asks the installed qemu-ga for the
// hook it runs with a bare -F.
type Locator struct {
	Root            string
	CompiledDefault func() string
}

// Live is the locator for this machine.
func Live() Locator { return Locator{Root: "/", CompiledDefault: askQemuGA} }

func (lc Locator) path(p string) string { return filepath.Join(lc.Root, p) }

// Locate reads qemu-ga's unit, its environment files and its
// configuration file.
func (lc Locator) Locate() Layout {
	unit, execArgs, env := lc.readUnit()
	l := Layout{Unit: unit}
	if hook, set, src := hookFromArgs(execArgs, env); set {
		l.Hook, l.Source, l.Enabled, l.Known = lc.orDefault(hook), src+" in "+unit, true, true
	} else if hook, set := lc.hookFromConf(); set {
		l.Hook, l.Source, l.Enabled, l.Known = lc.orDefault(hook), "fsfreeze-hook in "+ConfFile, true, true
	} else {
		l.Hook, l.Source = lc.distributionDefault(), "the distribution's default"
		if unit != "" {
			l.Known, l.Reason = true, "qemu-ga is started without -F ("+unit+") and "+ConfFile+" sets no fsfreeze-hook: it runs no hook"
		}
	}
	if l.Hook == disabledHookTo {
		l.Enabled, l.Reason = false, "the hook is set to /dev/null ("+l.Source+"): disabled"
	}
	if _, err := os.Stat(lc.path(SysconfigFile)); err == nil && strings.Contains(l.Source, "FSFREEZE_HOOK_PATHNAME") {
		l.Source = "FSFREEZE_HOOK_PATHNAME in " + SysconfigFile + " (" + unit + ")"
	}
	return l
}

// orDefault turns an empty -F or fsfreeze-hook into the compiled default.
func (lc Locator) orDefault(hook string) string {
	if hook != "" {
		return hook
	}
	if lc.CompiledDefault != nil {
		if d := lc.CompiledDefault(); d != "" {
			return d
		}
	}
	return lc.distributionDefault()
}

// distributionDefault: RHEL's layout when its files are there, else
// upstream's default (Debian, Ubuntu, SUSE).
func (lc Locator) distributionDefault() string {
	for _, p := range []string{SysconfigFile, filepath.Dir(RHELHook)} {
		if _, err := os.Stat(lc.path(p)); err == nil {
			return RHELHook
		}
	}
	return DefaultHook
}

// readUnit returns the unit file in force, the words of its last ExecStart
// and the variables of its Environment= and EnvironmentFile= lines.
func (lc Locator) readUnit() (unit string, args []string, env map[string]string) {
	env = map[string]string{}
	var files []string
	for _, d := range unitDirs {
		if unit == "" {
			if _, err := os.Stat(lc.path(filepath.Join(d, unitName))); err == nil {
				unit = filepath.Join(d, unitName)
			}
		}
	}
	if unit == "" {
		return "", nil, env
	}
	files = append(files, unit)
	var dropins []string
	for _, d := range unitDirs {
		m, _ := filepath.Glob(lc.path(filepath.Join(d, unitName+".d", "*.conf")))
		for _, f := range m {
			dropins = append(dropins, strings.TrimPrefix(f, filepath.Clean(lc.Root)))
		}
	}
	sort.Slice(dropins, func(i, j int) bool { return filepath.Base(dropins[i]) < filepath.Base(dropins[j]) })
	var exec string
	for _, f := range append(files, dropins...) {
		for _, kv := range unitLines(lc.path(f)) {
			switch kv[0] {
			case "ExecStart":
				exec = kv[1] // an empty ExecStart= resets
			case "EnvironmentFile":
				for k, v := range envFile(lc.path(strings.TrimPrefix(kv[1], "-"))) {
					env[k] = v
				}
			case "Environment":
				for _, w := range strings.Fields(kv[1]) {
					if k, v, ok := strings.Cut(strings.Trim(w, `"`), "="); ok {
						env[k] = v
					}
				}
			}
		}
	}
	exec = strings.TrimLeft(exec, "-@:+!")
	return unit, strings.Fields(expand(exec, env)), env
}

// unitLines returns a unit file's key=value lines, continuations joined.
func unitLines(path string) [][2]string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out [][2]string
	var cur string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			cur += cont + " "
			continue
		}
		line, cur = cur+line, ""
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, ";") {
			out = append(out, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
		}
	}
	return out
}

// envFile reads a systemd environment file (KEY=VALUE lines).
func envFile(path string) map[string]string {
	out := map[string]string{}
	for _, kv := range unitLines(path) {
		out[kv[0]] = strings.Trim(kv[1], `"'`)
	}
	return out
}

// expand replaces ${VAR} and $VAR as systemd does in ExecStart.
func expand(s string, env map[string]string) string {
	return os.Expand(s, func(k string) string { return env[k] })
}

// hookFromArgs finds -F[PATH] or --fsfreeze-hook[=PATH]; set is false
// when the hook is not enabled on the command line.
func hookFromArgs(args []string, env map[string]string) (hook string, set bool, source string) {
	for _, a := range args {
		switch {
		case a == "-F", a == "--fsfreeze-hook":
			hook, set = "", true
		case strings.HasPrefix(a, "--fsfreeze-hook="):
			hook, set = strings.TrimPrefix(a, "--fsfreeze-hook="), true
		case strings.HasPrefix(a, "-F"):
			hook, set = strings.TrimPrefix(a, "-F"), true
		}
	}
	source = "-F"
	if _, ok := env["FSFREEZE_HOOK_PATHNAME"]; ok {
		source = "FSFREEZE_HOOK_PATHNAME"
	}
	return hook, set, source
}

// hookFromConf reads fsfreeze-hook from [general] of qemu-ga.conf.
func (lc Locator) hookFromConf() (string, bool) {
	b, err := os.ReadFile(lc.path(ConfFile))
	if err != nil {
		return "", false
	}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[] ")
		case section == "general":
			if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "fsfreeze-hook" {
				return strings.TrimSpace(v), true
			}
		}
	}
	return "", false
}

// askQemuGA asks the installed qemu-ga which hook a bare -F runs
// ("qemu-ga -D -F" prints its effective configuration and exits).
func askQemuGA() string {
	bin, err := exec.LookPath("qemu-ga")
	if err != nil {
		for _, p := range []string{"/usr/bin/qemu-ga", "/usr/sbin/qemu-ga"} {
			if _, serr := os.Stat(p); serr == nil {
				bin = p
			}
		}
	}
	if bin == "" {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-D", "-F").Output()
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "fsfreeze-hook="); ok {
			return v
		}
	}
	return ""
}
