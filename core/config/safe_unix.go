//go:build !windows

package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// openSafe opens path for reading (see ReadSafe): symbolic links in the
// name are resolved first, the result opened without following another
// one (a link swapped in meanwhile is refused), without blocking on a FIFO;
// then the open file and every directory above it are checked.
func openSafe(path string) (*os.File, error) {
	if err := safeWay(path); err != nil {
		return nil, err
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, err
	}
	if real, err = filepath.Abs(real); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(real, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, unsafef("%s was replaced by a symbolic link while it was opened", real)
	}
	if err != nil {
		return nil, err
	}
	if err := checkOpen(f, path, real); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// checkOpen checks the open file and the directories above its real path.
func checkOpen(f *os.File, path, real string) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%w (%s)", ErrNotRegular, typeName(st.Mode()))
	}
	if st.Size() > MaxSize {
		return fmt.Errorf("larger than %d bytes: not a configuration file", MaxSize)
	}
	if err := safeEntry(path, st, false); err != nil {
		return err
	}
	return safeDirs(real, owner(st))
}

// trusted reports whether uid may own what quiesce obeys: root, or the
// user quiesce runs as.
func trusted(uid uint32) bool { return uid == 0 || int(uid) == os.Geteuid() }

func owner(st fs.FileInfo) uint32 {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return s.Uid
	}
	return 0
}

// safeEntry refuses a file or directory that others could change: writable
// by group or others, or owned by someone not trusted.
func safeEntry(path string, st fs.FileInfo, dir bool) error {
	what := ""
	if dir {
		what = "directory "
	}
	if perm := st.Mode().Perm(); perm&0o022 != 0 {
		return unsafef("%s%s is writable by group or others (mode %04o): fix with chmod go-w %s", what, path, perm, path)
	}
	if uid := owner(st); !trusted(uid) {
		if os.Geteuid() == 0 {
			return unsafef("%s%s is owned by uid %d, not root, and quiesce runs as root: fix with chown root %s", what, path, uid, path)
		}
		return unsafef("%s%s is owned by uid %d, neither root nor quiesce's uid %d: fix with chown %d %s", what, path, uid, os.Geteuid(), os.Geteuid(), path)
	}
	return nil
}

// safeWay checks the name as given, before its links are resolved: a
// link on the way (the file itself, or /etc/sysconfig -> ...) can be
// changed by whoever may write the directory it is in, so those
// directories must be safe too; where the links lead is checked on the
// resolved name.
func safeWay(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	st, err := os.Lstat(abs)
	if err != nil {
		return err
	}
	return safeDirs(abs, owner(st))
}

// safeDirs checks every directory above path up to the root: each must be
// one nobody else can change, or (as /tmp) sticky, where others may add
// entries but not replace one they do not own; child is the owner of the
// entry below. A symbolic link on the way is judged by the directory it
// is in (the next one up); where it leads is safeWay's caller's to check.
func safeDirs(path string, child uint32) error {
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		st, err := os.Lstat(dir)
		if err != nil {
			return err
		}
		link := st.Mode()&fs.ModeSymlink != 0
		if !st.IsDir() && !link {
			return unsafef("%s is not a directory", dir)
		}
		sticky := st.Mode()&fs.ModeSticky != 0 && st.Mode().Perm()&0o022 != 0
		switch {
		case link:
		case sticky && !trusted(child):
			return unsafef("directory %s is writable by others and the entry below it is owned by uid %d: move the file to a directory only root can write", dir, child)
		case sticky && trusted(owner(st)):
		default:
			if err := safeEntry(dir, st, true); err != nil {
				return err
			}
		}
		if dir == filepath.Dir(dir) {
			return nil
		}
		child = owner(st)
	}
}

func typeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeDevice != 0, m&fs.ModeCharDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

func checkDir(dir string) error {
	real, err := filepath.EvalSymlinks(dir)
	for errors.Is(err, fs.ErrNotExist) && filepath.Dir(dir) != dir {
		dir = filepath.Dir(dir)
		real, err = filepath.EvalSymlinks(dir)
	}
	if err != nil {
		return err
	}
	if real, err = filepath.Abs(real); err != nil {
		return err
	}
	st, err := os.Lstat(real)
	if err != nil {
		return err
	}
	if err := safeEntry(real, st, true); err != nil {
		return err
	}
	return safeDirs(real, owner(st))
}
