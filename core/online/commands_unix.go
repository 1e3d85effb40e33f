//go:build !windows

package online

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// flush makes the tag file and everything written to the data directory's
// file system so far durable (syncfs): what a disk snapshot must hold.
func flush(data, tag string) error {
	f, err := os.Open(tag)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return err
	}
	d, err := os.Open(data)
	if err != nil {
		return err
	}
	defer d.Close()
	return unix.Syncfs(int(d.Fd()))
}

func checkOwner(st fs.FileInfo) error {
	euid := os.Geteuid()
	if euid == 0 {
		return fmt.Errorf("runs as root: Domino Backup runs these commands as the Domino user")
	}
	if s, ok := st.Sys().(*syscall.Stat_t); ok && int(s.Uid) != euid {
		return fmt.Errorf("runs as uid %d, but the data directory belongs to uid %d: only the Domino user runs these commands", euid, s.Uid)
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
