package qemu

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/vendors/hook"
)

// Setup is where quiesce goes for the qemu-ga found under a root.
type Setup struct {
	Root   string
	Layout Layout
	Path   string // the file quiesce writes (on the guest, without Root)
	Stock  bool   // Path is in the stock hook's fsfreeze-hook.d
}

// ErrForeignHook: qemu-ga runs a hook quiesce did not write, which runs no
// fsfreeze-hook.d either.
var ErrForeignHook = errors.New("another hook is in place")

// Plan decides where to install for layout l: qemu-ga's hook itself when
// it is free or quiesce's; the stock hook's fsfreeze-hook.d (dropIn, or
// the one next to the hook) when the stock hook is there. Another hook
// that runs no fsfreeze-hook.d is left alone: an error says what to do.
func Plan(root string, l Layout, dropIn string) (Setup, error) {
	s := Setup{Root: root, Layout: l, Path: l.Hook}
	abs := filepath.Join(root, l.Hook)
	if !exists(abs) || hook.Ours(abs) {
		return s, nil
	}
	if dropIn == "" {
		dropIn = l.DropIn()
	}
	if !runsDropIns(abs) && dropIn == l.DropIn() {
		return s, fmt.Errorf("%s is a hook quiesce did not write, and it runs no fsfreeze-hook.d: %w; "+
			"call quiesce from it (%s) or move it away", l.Hook, ErrForeignHook, `exec /usr/local/sbin/quiesce qemu "$1"`)
	}
	s.Path, s.Stock = filepath.Join(dropIn, DropInName), true
	return s, nil
}

// runsDropIns tells the stock hook (it runs every executable of its
// fsfreeze-hook.d) from any other.
func runsDropIns(path string) bool {
	b, err := os.ReadFile(path)
	return err == nil && bytes.Contains(b, []byte("fsfreeze-hook.d"))
}

// Apply installs quiesce calling binary, and returns what to tell the
// administrator: where it went, whether qemu-ga will run it, and what is
// left to do.
func (s Setup) Apply(binary string, opts ...hook.Options) ([]string, error) {
	msg, err := s.Write(binary, opts...)
	if err != nil {
		return nil, err
	}
	notes, err := s.Notes()
	return append([]string{msg}, notes...), err
}

// Write writes the hook file, calling binary with opts.
func (s Setup) Write(binary string, opts ...hook.Options) (string, error) {
	msg, err := Install(filepath.Join(s.Root, s.Path), binary, opts...)
	return strings.Replace(msg, filepath.Join(s.Root, s.Path), s.Path, 1), err
}

// Notes says whether qemu-ga will run the hook Write wrote, enables the
// hook when qemu-ga runs none and nothing stands in the way, and reminds
// of SELinux labels.
func (s Setup) Notes() ([]string, error) {
	var out []string
	l := s.Layout
	if s.Stock {
		out = append(out, fmt.Sprintf("qemu-ga runs %s (%s), the stock hook: it runs %s for freeze and thaw, but always exits 0, so a failed freeze does not fail the snapshot (quiesce's log has it)",
			l.Hook, l.Source, s.Path))
	} else {
		out = append(out, fmt.Sprintf("qemu-ga runs it as its fsfreeze hook (%s): a failed freeze fails guest-fsfreeze-freeze", l.Source))
	}
	if lines, err := s.enable(); err != nil {
		return out, err
	} else {
		out = append(out, lines...)
	}
	if note := s.selinux(); note != "" {
		out = append(out, note)
	}
	return out, nil
}

// confMarker marks a qemu-ga.conf quiesce wrote.
const confMarker = "# " + hook.Marker + ": enables qemu-ga's fsfreeze hook\n"

// enable makes qemu-ga run its hook when it would run none: it writes
// qemu-ga.conf when there is none; otherwise it says what to change.
func (s Setup) enable() ([]string, error) {
	l := s.Layout
	switch {
	case l.Enabled:
		return nil, nil
	case l.Hook == disabledHookTo || strings.Contains(l.Reason, "/dev/null"):
		return []string{fmt.Sprintf("WARNING: %s; set FSFREEZE_HOOK_PATHNAME=%s in %s and restart qemu-guest-agent", l.Reason, RHELHook, SysconfigFile)}, nil
	case !l.Known:
		return []string{"note: no qemu-guest-agent unit found; start qemu-ga with -F" + l.Hook + " or set fsfreeze-hook=" + l.Hook + " under [general] in " + ConfFile}, nil
	}
	conf := filepath.Join(s.Root, ConfFile)
	if _, err := os.Stat(conf); !errors.Is(err, fs.ErrNotExist) {
		return []string{fmt.Sprintf("WARNING: %s: add fsfreeze-hook=%s under [general] in %s and restart qemu-guest-agent", l.Reason, l.Hook, ConfFile)}, nil
	}
	if err := config.CheckDir(filepath.Dir(conf)); err != nil {
		return nil, fmt.Errorf("not writing %s: %w", conf, err)
	}
	if err := hook.WriteAtomic(conf, []byte(confMarker+"[general]\nfsfreeze-hook="+l.Hook+"\n"), 0o644); err != nil {
		return nil, err
	}
	return []string{fmt.Sprintf("enabled the hook: wrote %s (qemu-ga was started without -F); restart qemu-guest-agent for it to take effect", ConfFile)}, nil
}

// selinux says how to label the hook when SELinux is on (RHEL, Rocky,
// Alma): files in /etc/qemu-ga/fsfreeze-hook.d are labelled
// virt_qemu_ga_unconfined_exec_t and run unconfined; a hook elsewhere runs
// in qemu-ga's confined domain, which may not stop an application.
func (s Setup) selinux() string {
	b, err := os.ReadFile(filepath.Join(s.Root, "/etc/selinux/config"))
	if err != nil || bytes.Contains(b, []byte("SELINUX=disabled")) || !bytes.Contains(b, []byte("SELINUX=")) {
		return ""
	}
	return fmt.Sprintf("SELinux: run 'restorecon -v %s' and check that it is labelled virt_qemu_ga_unconfined_exec_t (ls -Z); see docs/qemu.md", s.Path)
}

// Remove removes what Apply wrote for layout l under root: the hook
// (qemu-ga's hook itself, or the file in dropIn, default next to the hook)
// and a qemu-ga.conf quiesce wrote.
func Remove(root string, l Layout, dropIn string) ([]string, error) {
	if dropIn == "" {
		dropIn = l.DropIn()
	}
	var out []string
	path := filepath.Join(dropIn, DropInName)
	if hook.Ours(filepath.Join(root, l.Hook)) {
		path = l.Hook
	}
	s := Setup{Root: root}
	msg, err := hook.RemoveFile(filepath.Join(s.Root, path))
	if err != nil {
		return nil, err
	}
	out = append(out, strings.Replace(msg, filepath.Join(s.Root, path), path, 1))
	conf := filepath.Join(root, ConfFile)
	if b, err := os.ReadFile(conf); err == nil && bytes.HasPrefix(b, []byte(confMarker)) {
		if err := os.Remove(conf); err != nil {
			return out, err
		}
		out = append(out, "removed: "+ConfFile+" (restart qemu-guest-agent)")
	}
	return out, nil
}
