//go:build !windows

package config

import (
	"fmt"
	"os"
	"syscall"
)

// CheckSafe refuses a file others could change to make quiesce (often
// root) run something of theirs: one writable by group or others, or, when
// quiesce runs as root, one not owned by root. The message says how to fix.
func CheckSafe(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s is writable by group or others (mode %04o): fix with chmod go-w %s", path, st.Mode().Perm(), path)
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if ok && os.Geteuid() == 0 && sys.Uid != 0 {
		return fmt.Errorf("%s is owned by uid %d, not root, and quiesce runs as root: fix with chown root %s", path, sys.Uid, path)
	}
	return nil
}
