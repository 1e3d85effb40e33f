//go:build !windows

package postgresql

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Split says which part of the data directory dir (pg_wal, a
// tablespace) is on another file system than dir itself; "" when none.
func Split(dir string) (string, error) {
	dev := func(p string) (uint64, error) {
		var st syscall.Stat_t
		if err := syscall.Stat(p, &st); err != nil {
			return 0, err
		}
		return uint64(st.Dev), nil
	}
	base, err := dev(dir)
	if err != nil {
		return "", err
	}
	parts := []string{filepath.Join(dir, "pg_wal")}
	if ts, err := os.ReadDir(filepath.Join(dir, "pg_tblspc")); err == nil {
		for _, t := range ts {
			parts = append(parts, filepath.Join(dir, "pg_tblspc", t.Name()))
		}
	}
	for _, p := range parts {
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return "", err
		}
		d, err := dev(real)
		if err != nil {
			return "", err
		}
		if d != base {
			return fmt.Sprintf("%s (%s) is on another file system than %s", filepath.Base(p), real, dir), nil
		}
	}
	return "", nil
}
