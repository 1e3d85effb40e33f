package azure

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/quiesce/quiesce/vendors/hook"
)

// Adapter is Azure Backup as the command line offers it. Its limits are
// what the plugin configuration sets (timeoutInSeconds), read when the
// command line starts.
func Adapter() hook.Adapter {
	return hook.Adapter{
		Name:      Name,
		LinuxOnly: true, // its Windows agent quiesces through VSS and runs no hook
		Usage:     "Azure Backup pre-script|post-script (VMSnapshotScriptPluginConfig.json)",
		Help: hook.Help{
			Args: "[--plugin-config FILE] pre-script|post-script [PARAMS...]",
			Words: []hook.Word{
				{Name: "pre-script", What: "before the VM snapshot: stop the applications, or put them in online backup mode; non-zero: see continueBackupOnFailure"},
				{Name: "post-script", What: "after the snapshot (run even when the pre-script failed): start the applications and prove they serve"},
				{Name: "PARAMS", What: "preScriptParams / postScriptParams from the plugin configuration: logged"},
			},
			Flags: []hook.Flag{{Name: "plugin-config", Default: ConfigFile, Usage: "the plugin configuration whose timeoutInSeconds is the limit"}},
			Exits: "0 success, 1 failure, 2 wrong arguments",
		},
		Defaults: LimitsFrom(ConfigFile),
		Hints: hook.Hints{
			Budget: "timeoutInSeconds in " + ConfigFile + " (at most 1800; 'quiesce install azure --timeout N' sets it)",
			Thaw:   "timeoutInSeconds in " + ConfigFile + " (the same limit for the post-script)",
		},
		Run:     Run,
		Install: installer(),
	}
}

func installer() *hook.Installer {
	where := []hook.Flag{
		{Name: "plugin-config", Default: ConfigFile, Locates: true, Usage: "the plugin configuration the Azure VM backup extension reads"},
		{Name: "dir", Default: DefaultDir, Locates: true, Usage: "where the pre-script and post-script go"},
	}
	flags := append(append([]hook.Flag{}, where...),
		hook.Flag{Name: "timeout", Usage: "timeoutInSeconds for each script, 1-1800 (default: keep the file's, 30 in a new file)"},
		hook.Flag{Name: "on-failure", Usage: "what Azure does when the pre-script fails: snapshot (continueBackupOnFailure true: a file-system consistent snapshot) or fail (false: no snapshot, the backup fails); default: keep the file's, snapshot in a new file"},
		hook.Flag{Name: "merge", Bool: true, Usage: "add quiesce to a plugin configuration quiesce did not write (its other keys are kept; uninstall puts back what it replaced)"},
	)
	return &hook.Installer{
		Usage:          "write the Azure Backup pre-script and post-script and name them in VMSnapshotScriptPluginConfig.json",
		Flags:          flags,
		Install:        install,
		UninstallUsage: "remove the Azure Backup scripts and put VMSnapshotScriptPluginConfig.json back as it was",
		UninstallFlags: where,
		Uninstall:      uninstall,
		Hooks:          func(s hook.Site) []string { st := setupOf(s); return []string{st.pre(), st.post()} },
		Check:          check,
	}
}

func setupOf(s hook.Site) Setup {
	return Setup{Config: s.String("plugin-config"), Dir: s.String("dir")}
}

// settings reads install's flags.
func settings(s hook.Site) (Settings, error) {
	st := Settings{Merge: s.Bool("merge")}
	if v := s.String("timeout"); v != "" {
		d, err := parseSeconds(v)
		if err != nil || d < time.Second || d > MaxTimeout {
			return st, s.Fail("--timeout %q: give seconds from 1 to 1800 (Azure's limit per script)", v)
		}
		st.Timeout = d
	}
	switch v := s.String("on-failure"); v {
	case "":
	case "snapshot", "fail":
		c := v == "snapshot"
		st.Continue = &c
	default:
		return st, s.Fail("--on-failure %q: give snapshot (continueBackupOnFailure true) or fail (false)", v)
	}
	return st, nil
}

func parseSeconds(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err == nil && d%time.Second != 0 {
		err = errors.New("whole seconds only")
	}
	return d, err
}

// install checks the plugin configuration first (a file quiesce may not
// touch stops it before anything is written), writes and checks both
// scripts with a dry run, then writes the plugin configuration. A failure
// takes back the scripts it wrote.
func install(s hook.Site) error {
	if s.Windows() {
		return s.Fail("Azure Backup's pre-script and post-script framework is for Linux VMs; Windows VMs get application consistency from VSS")
	}
	bin, opts, err := s.Command()
	if err != nil {
		return err
	}
	st := setupOf(s)
	if st.Settings, err = settings(s); err != nil {
		return err
	}
	o, changed, created, err := st.Plan()
	if err != nil {
		return s.Fail("%v", err)
	}
	var wrote []string
	undo := func() {
		for _, p := range wrote {
			os.Remove(p)
		}
	}
	for _, sc := range []struct{ op, path string }{{"pre", st.pre()}, {"post", st.post()}} {
		existed := exists(sc.path)
		runs := "sh " + sc.path + " (" + opts.CommandLine(bin, false) + " azure --plugin-config=" + shellQuote(st.Config) + " " + sc.op + "-script)"
		if err := s.Write(sc.path, func() (string, error) { return WriteScript(sc.path, Script(sc.op, bin, st.Config, opts)) }, runs); err != nil {
			undo()
			return err
		}
		if !existed {
			wrote = append(wrote, sc.path)
		}
	}
	if err := st.WriteConfig(o); err != nil {
		undo()
		return s.Fail("cannot write %s: %v (removed the scripts it would name)", st.Config, err)
	}
	how := "merged into"
	if created {
		how = "created"
	}
	s.Say("%s %s (mode 600, owner root):", how, st.Config)
	for _, c := range changed {
		s.Say("  %s", c)
	}
	if len(changed) == 0 {
		s.Say("  (already as quiesce writes it)")
	}
	for _, l := range Notes(o) {
		s.Say("%s", l)
	}
	return nil
}

// Notes say what the plugin configuration o means for a backup: the
// limit per script, and what Azure does when the pre-script fails.
func Notes(o *Object) []string {
	t, ok := o.Timeout()
	if !ok {
		t = DefaultTimeout
	}
	out := []string{fmt.Sprintf("timeoutInSeconds %d: each script has %s; Azure stops waiting then (it does not kill the script) and goes on as after a failure", int(t/time.Second), t)}
	if o.Bool(keyContinue, true) {
		out = append(out, "continueBackupOnFailure true: when the pre-script fails or times out, Azure still takes the snapshot, file-system consistent only (not application consistent), and the job ends with a warning")
	} else {
		out = append(out, "continueBackupOnFailure false: when the pre-script fails or times out, Azure takes no snapshot and the backup fails")
	}
	if !o.Bool(keyFSFreeze, true) {
		out = append(out, "fsFreezeEnabled false: Azure does not fsfreeze the file systems; a failed script then fails the backup")
	}
	return append(out, "the post-script runs after every snapshot attempt, also after a failed pre-script: quiesce's thaw does nothing when nothing is frozen")
}

func uninstall(s hook.Site) error {
	lines, err := setupOf(s).Remove()
	for _, l := range lines {
		s.Say("%s", l)
	}
	if err != nil {
		return s.Fail("%v", err)
	}
	return nil
}

// check says which scripts the extension will run, whether they are
// quiesce's, and whether the extension accepts the files' owners and
// modes; false when quiesce is installed but the extension would refuse
// or not run it.
func check(s hook.Site) bool {
	st := setupOf(s)
	o, err := readObject(st.Config)
	if err != nil {
		s.Say("          hook      WARNING: %v", err)
		return !hook.Ours(st.pre())
	}
	if o == nil {
		s.Say("          hook      no %s: Azure Backup runs no pre-script ('quiesce install azure' writes it)", st.Config)
		return !hook.Ours(st.pre())
	}
	pre, post := o.String(keyPre), o.String(keyPost)
	s.Say("          hook      Azure Backup runs %s and %s (%s)", orNone(pre), orNone(post), st.Config)
	ok := true
	if !hook.Ours(pre) || !hook.Ours(post) {
		if hook.Ours(st.pre()) {
			s.Say("                    WARNING: quiesce's scripts are in %s, but the plugin configuration names others: run 'quiesce install azure --merge'", st.Dir)
			return false
		}
		s.Say("                    these are not quiesce's scripts ('quiesce install azure --merge' adds quiesce)")
		return true
	}
	for _, f := range []struct {
		path string
		mode os.FileMode
	}{{st.Config, ConfigMode}, {pre, ScriptMode}, {post, ScriptMode}} {
		if why := refused(f.path, f.mode == ConfigMode); why != "" {
			s.Say("                    WARNING: the extension refuses %s: %s (wants mode %o, owner root)", f.path, why, f.mode)
			ok = false
		}
	}
	for _, l := range Notes(o) {
		s.Say("                    %s", l)
	}
	if t := LimitsFrom(st.Config).Budget; st.Config != ConfigFile && t != LimitsFrom(ConfigFile).Budget {
		s.Say("                    note: the limits above are those of %s; this file's timeoutInSeconds is %s", ConfigFile, t)
	}
	return ok
}

func orNone(p string) string {
	if p == "" {
		return "(none)"
	}
	return p
}

// refused says why the extension would refuse a file (the checks of its
// ScriptRunner.py and PluginHost.py): group or others have any right, the
// plugin configuration has the owner's execute bit, or the owner is not
// root. "" when it accepts it.
func refused(path string, config bool) string {
	fi, err := os.Stat(path)
	if err != nil {
		return err.Error()
	}
	var why []string
	if fi.Mode().Perm()&0o077 != 0 {
		why = append(why, fmt.Sprintf("mode %o gives group or others access", fi.Mode().Perm()))
	}
	if config && fi.Mode().Perm()&0o100 != 0 {
		why = append(why, "it is executable")
	}
	if uid, ok := owner(fi); ok && uid != 0 {
		why = append(why, fmt.Sprintf("owned by uid %d, not root", uid))
	}
	return strings.Join(why, "; ")
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return !errors.Is(err, fs.ErrNotExist)
}
