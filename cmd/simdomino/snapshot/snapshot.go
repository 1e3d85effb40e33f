// Package snapshot copies a data directory as a hypervisor snapshot would
// capture it at one instant: what is on disk now, file by file.
package snapshot

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Copy copies the regular files and directories under src to dst,
// keeping each file's modification time, as a disk snapshot does.
func Copy(src, dst string) error {
	return filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		if err := CopyFile(path, target, 0o644); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while copied: not in this snapshot
			}
			return err
		}
		return os.Chtimes(target, info.ModTime(), info.ModTime())
	})
}

// CopyFile copies one file, creating dst with mode perm.
func CopyFile(src, dst string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
