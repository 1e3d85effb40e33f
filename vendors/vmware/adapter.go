package vmware

import (
	"errors"
	"runtime"

	"github.com/quiesce/quiesce/vendors/hook"
)

// Adapter is VMware Tools as the command line offers it.
func Adapter() hook.Adapter {
	return hook.Adapter{
		Name:  Name,
		Usage: "VMware Tools hook: freeze|freezeFail|thaw [ARG]",
		Help: hook.Help{
			Args: "freeze|freezeFail|thaw [SCRIPT_ARG]",
			Words: []hook.Word{
				{Name: "freeze", What: "before the quiesced snapshot: stop the applications; non-zero fails the snapshot"},
				{Name: "freezeFail", What: "the snapshot failed after freeze: start the applications again (as thaw)"},
				{Name: "thaw", What: "after the snapshot: start the applications and prove they serve"},
				{Name: "SCRIPT_ARG", What: "VMware Tools' [vmbackup] scriptArg, if set: logged as the job"},
			},
			Exits: "0 success, 1 failure, 2 wrong arguments",
		},
		Defaults: Defaults,
		Hints: hook.Hints{
			Budget: "[budgets] vmware (match VMware's timer: [vmbackup] timeout in tools.conf, or the quiesce timeout the backup product sets)",
			Thaw:   "[budgets] vmware_thaw",
		},
		Run:     Run,
		Invoked: Invocation,
		Install: installer(),
	}
}

func installer() *hook.Installer {
	dir := hook.Flag{Name: "dir", Usage: "backupScripts.d folder (default: on Windows from the registry's VMware Tools InstallPath)", Locates: true}
	legacy := hook.Flag{Name: "legacy", Bool: true, Usage: "Windows: the legacy pre-freeze-script.bat/post-thaw-script.bat in the Windows folder (or --dir) instead of the backupScripts.d hook"}
	return &hook.Installer{
		Usage:          "install the VMware Tools hook",
		Flags:          []hook.Flag{dir, legacy},
		Install:        install,
		UninstallUsage: "remove the VMware Tools hook",
		UninstallFlags: []hook.Flag{dir, legacy},
		Uninstall:      uninstall,
		UninstallAll:   uninstallAll,
		Hooks:          func(s hook.Site) []string { return []string{HookPath(scriptDir(s, false))} },
	}
}

func install(s hook.Site) error {
	bin, opts, err := s.Command()
	if err != nil {
		return err
	}
	if s.Bool("legacy") {
		return say(s)(InstallLegacy(legacyDir(s), bin, opts))
	}
	dir := scriptDir(s, true)
	return s.Write(HookPath(dir), func() (string, error) { return Install(dir, bin, opts) },
		opts.CommandLine(bin, s.Windows())+" vmware freeze|freezeFail|thaw")
}

func uninstall(s hook.Site) error {
	if s.Bool("legacy") {
		return say(s)(UninstallLegacy(legacyDir(s)))
	}
	return say(s)(Uninstall(scriptDir(s, true)))
}

// uninstallAll removes the backupScripts.d hook and, on Windows, the
// legacy scripts in the Windows folder, each only if quiesce wrote it.
func uninstallAll(s hook.Site) error {
	err := say(s)(Uninstall(scriptDir(s, true)))
	if runtime.GOOS == "windows" {
		err = errors.Join(err, say(s)(UninstallLegacy(LegacyDir())))
	}
	return err
}

// say prints what a step did, or returns its error.
func say(s hook.Site) func(string, error) error {
	return func(msg string, err error) error {
		if err == nil {
			s.Say("%s", msg)
		}
		return err
	}
}

// scriptDir is --dir, else VMware Tools' script folder, saying (when tell)
// where that came from (on Windows the registry, the default path only as
// a fallback).
func scriptDir(s hook.Site, tell bool) string {
	if d := s.String("dir"); d != "" {
		return d
	}
	dir, source := ScriptDir()
	if tell {
		s.Say("VMware Tools script folder %s (from %s)", dir, source)
	}
	return dir
}

// legacyDir is --dir, else the Windows folder.
func legacyDir(s hook.Site) string {
	if d := s.String("dir"); d != "" {
		return d
	}
	return LegacyDir()
}
