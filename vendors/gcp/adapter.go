package gcp

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/scripts"
	"github.com/quiesce/quiesce/vendors/hook"
)

// DefaultDir is where the agent runs the scripts from.
const DefaultDir = "/etc/google/snapshots"

// Mode of the scripts and their folder: root only, as the agent makes the
// folder.
const Mode os.FileMode = 0o700

// Scripts are the two scripts and the operation each runs.
var Scripts = []struct{ Name, Op string }{{"pre.sh", "pre"}, {"post.sh", "post"}}

// Adapter is the Google Cloud guest agent as the command line offers it.
func Adapter() hook.Adapter {
	flags := []hook.Flag{
		{Name: "dir", Default: DefaultDir, Locates: true, Usage: "the folder the guest agent runs pre.sh and post.sh from"},
		{Name: "agent-config", Default: AgentConfig, Locates: true, Usage: "the guest agent's configuration ([Snapshots] enabled, timeout_in_seconds)"},
	}
	enable := hook.Flag{Name: "enable-agent", Bool: true, Usage: "also set [Snapshots] enabled = true in the agent's configuration (kept otherwise as it is; a copy of the old file is left next to it)"}
	return hook.Adapter{
		Name:      Name,
		LinuxOnly: true, // its Windows agent quiesces through VSS and runs no hook
		Usage:     "Google Cloud guest agent snapshot script: pre|post DISKS",
		Help: hook.Help{
			Args: "pre|post DISKS",
			Words: []hook.Word{
				{Name: "pre", What: "pre.sh: stop the applications (or put Domino in backup mode) before the snapshot; non-zero: no snapshot"},
				{Name: "post", What: "post.sh: start the applications and prove they serve; idempotent"},
				{Name: "DISKS", What: "the disk list the agent passes: logged with the job"},
			},
			Exits: "0 success, 1 failure, 2 wrong arguments, 124 the agent's time limit cannot hold the freeze (the agent reports it as timed out; nothing was left down)",
		},
		Defaults: limits(AgentConfig),
		Hints: hook.Hints{Budget: "[Snapshots] timeout_in_seconds in " + AgentConfig + " (quiesce reads it; [budgets] gcp overrides)",
			Thaw: "[Snapshots] timeout_in_seconds (the same for post.sh)"},
		Run:     Run,
		Invoked: Invocation,
		Install: &hook.Installer{
			Usage:          "write /etc/google/snapshots/pre.sh and post.sh (root, 0700) and say how to enable them in the guest agent",
			Flags:          append(append([]hook.Flag{}, flags...), enable),
			Install:        install,
			UninstallUsage: "remove the pre.sh and post.sh install gcp wrote (the agent's configuration is left as it is)",
			UninstallFlags: flags,
			Uninstall:      uninstall,
			Hooks:          hooks,
			Check:          check,
		},
	}
}

func install(s hook.Site) error {
	bin, opts, err := s.Command()
	if err != nil {
		return err
	}
	dir := s.String("dir")
	if err := os.MkdirAll(dir, Mode); err != nil {
		return err
	}
	for _, sc := range Scripts {
		path, tmpl := filepath.Join(dir, sc.Name), scripts.Read("gcp/"+sc.Name)
		if err := s.Write(path, func() (string, error) { return hook.InstallFileMode(path, hook.Render(tmpl, bin, opts), Mode) },
			opts.CommandLine(bin, s.Windows())+" gcp "+sc.Op+" DISKS"); err != nil {
			return err
		}
	}
	return enableAgent(s)
}

// enableAgent says whether the agent runs the scripts and, with
// --enable-agent (the administrator's consent), enables them.
func enableAgent(s hook.Site) error {
	path := s.String("agent-config")
	a, err := ReadAgent(path)
	if err != nil {
		return err
	}
	switch {
	case a.Enabled:
		s.Say("the guest agent runs them: [Snapshots] enabled = true in %s; timeout_in_seconds = %d", path, int(a.Timeout.Seconds()))
		return nil
	case !s.Bool("enable-agent"):
		s.Say("the guest agent does NOT run them yet: add to %s", path)
		s.Say("  [Snapshots]")
		s.Say("  enabled = true")
		s.Say("and restart google-guest-agent (or run 'quiesce install gcp --enable-agent', which changes only that key)")
		return nil
	}
	if err := config.CheckDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("not writing %s: %w", path, err)
	}
	old, err := hook.ReadHook(path)
	if err != nil && a.Exists {
		return err
	}
	if a.Exists {
		if err := hook.WriteAtomic(path+".quiesce-old", old, 0o600); err != nil {
			return fmt.Errorf("keep a copy of %s: %w", path, err)
		}
	}
	if err := writeKeepingMode(path, Enable(old)); err != nil {
		return err
	}
	if a.Exists {
		s.Say("set [Snapshots] enabled = true in %s (the previous file is %s.quiesce-old)", path, path)
	} else {
		s.Say("wrote %s with [Snapshots] enabled = true", path)
	}
	s.Say("restart the agent to apply it: systemctl restart google-guest-agent")
	return nil
}

// writeKeepingMode replaces path with b atomically, keeping its mode
// (0644 for a new file, as the agent's packages install it).
func writeKeepingMode(path string, b []byte) error {
	mode := os.FileMode(0o644)
	if st, err := os.Lstat(path); err == nil && st.Mode().IsRegular() {
		mode = st.Mode().Perm()
	}
	return hook.WriteAtomic(path, b, mode)
}

func uninstall(s hook.Site) error {
	for _, path := range hooks(s) {
		msg, err := hook.RemoveFile(path)
		if err != nil {
			return err
		}
		s.Say("%s", msg)
	}
	s.Say("the agent's configuration %s is left as it is", s.String("agent-config"))
	return nil
}

func hooks(s hook.Site) []string {
	var out []string
	for _, sc := range Scripts {
		out = append(out, filepath.Join(s.String("dir"), sc.Name))
	}
	return out
}

// check says whether the agent runs the scripts, with which timeout;
// false when quiesce's scripts are installed but the agent will not run
// them.
func check(s hook.Site) bool {
	path := s.String("agent-config")
	a, err := ReadAgent(path)
	installed := 0
	for _, p := range hooks(s) {
		if hook.Ours(p) {
			installed++
		}
	}
	if installed == 0 {
		s.Say("          hook      %s: quiesce's scripts are not installed ('quiesce install gcp' puts them there)", s.String("dir"))
		return err == nil
	}
	switch {
	case err != nil:
		s.Say("          hook      %s: %v", path, err)
		return false
	case installed < len(Scripts):
		s.Say("          hook      only %d of pre.sh and post.sh in %s are quiesce's: reinstall with 'quiesce install gcp'", installed, s.String("dir"))
		return false
	case !a.Enabled:
		s.Say("          hook      quiesce's scripts are in %s, but the agent will NOT run them: [Snapshots] enabled = true is not set in %s", s.String("dir"), path)
		return false
	}
	s.Say("          hook      the agent runs quiesce's scripts in %s; it kills each after timeout_in_seconds = %d (%s)", s.String("dir"), int(a.Timeout.Seconds()), path)
	return true
}
