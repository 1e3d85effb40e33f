package veeam

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/vendors/hook"
)

// LinuxDir is where install veeam writes the scripts on Linux.
const LinuxDir = "/usr/local/share/quiesce/veeam"

// DefaultDir is where install veeam writes the scripts: on Windows beside
// quiesce's configuration, state and log, %ProgramData%\quiesce\veeam.
func DefaultDir() string {
	if runtime.GOOS != "windows" {
		return LinuxDir
	}
	data := os.Getenv("ProgramData")
	if data == "" {
		data = `C:\ProgramData`
	}
	return filepath.Join(data, "quiesce", "veeam")
}

// Adapter is Veeam as the command line offers it.
func Adapter() hook.Adapter {
	dir := hook.Flag{Name: "dir", Default: DefaultDir(), Usage: "where install veeam writes the scripts", Locates: true}
	return hook.Adapter{
		Name:  Name,
		Usage: "Veeam pre-freeze|post-thaw script (never writes to stderr)",
		Help: hook.Help{
			Args: "pre-freeze|post-thaw",
			Words: []hook.Word{
				{Name: "pre-freeze", What: "the job's pre-freeze script: stop the applications before the snapshot"},
				{Name: "post-thaw", What: "the job's post-thaw script: start the applications and prove they serve"},
			},
			Exits: "0 success, 1 failure or wrong arguments; nothing is ever written to stderr (Veeam fails a job on it)",
		},
		Defaults:   Defaults,
		Hints:      hook.Hints{Budget: "[budgets] veeam (Veeam allows 600 s per script)", Thaw: "[budgets] veeam_thaw"},
		Run:        Run,
		StdoutOnly: true,
		Install: &hook.Installer{
			Usage:          "write the Veeam scripts and print the job settings",
			Flags:          []hook.Flag{dir},
			Install:        install,
			UninstallUsage: "remove the Veeam scripts install veeam wrote",
			UninstallFlags: []hook.Flag{dir},
			Uninstall:      uninstall,
			Hooks:          hooks,
		},
	}
}

// install writes the scripts, checks each with a dry run (removing them
// all again when one fails) and prints the job settings.
func install(s hook.Site) error {
	bin, opts, err := s.Command()
	if err != nil {
		return err
	}
	dir := s.String("dir")
	if err := config.CheckDir(dir); err != nil {
		return fmt.Errorf("not installing into %s: %w", dir, err)
	}
	scripts := Scripts(bin, opts)
	var checked []string
	for _, name := range sorted(scripts) {
		path := filepath.Join(dir, name)
		if err := hook.WriteAtomic(path, scripts[name], 0o755); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		line, err := s.DryRun(path)
		if err != nil {
			for n := range scripts {
				os.Remove(filepath.Join(dir, n))
			}
			return s.Fail("%s failed its check, so it would fail every backup (removed the scripts again):\n  %s", path, err)
		}
		checked = append(checked, name+": "+line)
	}
	Instructions(s.Out(), opts.CommandLine(bin, s.Windows()), dir)
	for _, l := range checked {
		s.Say("checked: %s", l)
	}
	return nil
}

func uninstall(s hook.Site) error {
	for _, path := range hooks(s) {
		msg, err := hook.RemoveFile(path)
		if err != nil {
			return err
		}
		s.Say("%s", msg)
	}
	return nil
}

// hooks are the scripts install veeam writes in --dir.
func hooks(s hook.Site) []string {
	var out []string
	for _, name := range sorted(Scripts("")) {
		out = append(out, filepath.Join(s.String("dir"), name))
	}
	return out
}

func sorted(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
