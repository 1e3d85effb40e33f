package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/vendors/hook"
)

// hookOptions are the global options an installed hook passes: the
// configuration install found (always, as an absolute path), and the state
// directory and log file when given on install's command line or
// environment (otherwise the configuration or the defaults decide).
func (e *env) hookOptions(c *cli.Context) (hook.Options, error) {
	path, err := config.Find(c.String("config"), e.configDefaults())
	if err != nil {
		return hook.Options{}, &actionError{fmt.Errorf("%w; a hook needs a configuration: pass --config FILE to install", err)}
	}
	if _, err := config.Load(path); err != nil {
		return hook.Options{}, &actionError{err} // nothing written: fix the configuration first
	}
	var o hook.Options
	for _, p := range []struct {
		dst *string
		val string
	}{{&o.Config, path}, {&o.StateDir, c.String("state-dir")}, {&o.LogFile, c.String("log-file")}} {
		if p.val == "" {
			continue
		}
		if *p.dst, err = filepath.Abs(p.val); err != nil {
			return hook.Options{}, &actionError{err}
		}
	}
	return o, nil
}

// hookEnv is the environment a check of an installed hook runs in: this
// one without QUIESCE_* variables, which the caller will not set, so the
// hook has to carry its configuration itself.
func hookEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(strings.ToUpper(kv), "QUIESCE_") {
			env = append(env, kv)
		}
	}
	return env
}

// dryRunHook runs argv (an installed hook, or the command line a console
// will run) with --dry-run, and returns its one-line report.
func dryRunHook(argv ...string) (string, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = hookEnv()
	out, err := cmd.CombinedOutput()
	line := strings.TrimSpace(string(out))
	if err != nil {
		if line == "" {
			line = err.Error()
		}
		return "", errors.New(line)
	}
	return line, nil
}

// installChecked writes a hook file with write, then checks it with a dry
// run of the installed file. When the check fails, the file is put back as
// it was (or removed) and the error says why: a hook that cannot load its
// configuration would fail the first backup at night.
func (e *env) installChecked(caller, path string, write func() (string, error), runs string) error {
	old, oldErr := hook.ReadHook(path)
	msg, err := write()
	if err != nil {
		return &actionError{err}
	}
	checked, verr := dryRunHook(path, dryRunFlag)
	if verr != nil {
		undo := "removed it again"
		switch {
		case strings.HasPrefix(msg, "already installed"):
			undo = "left the hook that was there"
		case oldErr == nil:
			if werr := hook.WriteAtomic(path, old, 0o755); werr != nil {
				undo = "could not put the previous hook back: " + werr.Error()
			} else {
				undo = "put the previous hook back"
			}
		case errors.Is(oldErr, fs.ErrNotExist):
			if rerr := os.Remove(path); rerr != nil {
				undo = "could not remove it: " + rerr.Error()
			}
		}
		return &exitError{code: ExitFailure, msg: fmt.Sprintf("%s: install %s: the hook %s failed its check, so it would fail every backup (%s):\n  %s",
			e.prog, caller, path, undo, verr)}
	}
	e.say("%s", msg)
	e.say("  runs:    %s", runs)
	e.say("  checked: %s", checked)
	return nil
}

func isWindows() bool { return runtime.GOOS == "windows" }
