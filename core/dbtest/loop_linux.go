// Package dbtest runs real database servers for tests (Debian's
// PostgreSQL and MariaDB), started by the tests themselves as an
// unprivileged user in temporary directories, on loopback, with their
// data on a small file system of their own (a loop-mounted ext4 image)
// so that a snapshot can be atomic, as a hypervisor's is: fsfreeze -f,
// copy, fsfreeze -u.
package dbtest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// Loop is an ext4 file system on a loop device, mounted for one test.
type Loop struct {
	Dir string // where it is mounted
	img string
	mu  sync.Mutex
	fz  bool // frozen now
}

// NewLoop makes and mounts a file system of size MiB owned by owner
// ("" for root). A machine where that is not possible skips the test,
// and fails it in CI. Cleanup unfreezes (whatever happened), unmounts
// and removes it.
func NewLoop(t testing.TB, size int, owner string) *Loop {
	t.Helper()
	simtest.Require(t, os.Geteuid() == 0, "mounting a loop file system needs root")
	for _, tool := range []string{"mkfs.ext4", "fsfreeze", "mount", "umount"} {
		if _, err := exec.LookPath(tool); err != nil {
			simtest.Require(t, false, tool+" is not installed")
		}
	}
	base, err := os.MkdirTemp("", "qloop")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(base, 0o755)
	l := &Loop{Dir: filepath.Join(base, "mnt"), img: filepath.Join(base, "fs.img")}
	if err := os.Mkdir(l.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.remove(t, base) })
	if out, err := exec.Command("truncate", "-s", fmt.Sprintf("%dM", size), l.img).CombinedOutput(); err != nil {
		t.Fatalf("truncate: %v %s", err, out)
	}
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", "-m", "0", l.img).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v %s", err, out)
	}
	if out, err := exec.Command("mount", "-o", "loop", l.img, l.Dir).CombinedOutput(); err != nil {
		simtest.Require(t, false, fmt.Sprintf("cannot mount a loop file system here: %v %s", err, out))
	}
	if owner != "" {
		chown(t, l.Dir, owner)
	}
	_ = os.RemoveAll(filepath.Join(l.Dir, "lost+found"))
	return l
}

func (l *Loop) remove(t testing.TB, base string) {
	l.Thaw() // never leave a file system frozen
	for i := 0; ; i++ {
		out, err := exec.Command("umount", l.Dir).CombinedOutput()
		if err == nil {
			break
		}
		if i == 50 {
			t.Errorf("umount %s: %v %s (detaching it)", l.Dir, err, out)
			_ = exec.Command("umount", "-l", l.Dir).Run()
			break
		}
		time.Sleep(100 * time.Millisecond) // a server still exiting
	}
	_ = os.RemoveAll(base)
}

// Freeze freezes the file system (FIFREEZE, as VMware Tools and qemu-ga
// do before a snapshot).
func (l *Loop) Freeze() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if out, err := exec.Command("fsfreeze", "-f", l.Dir).CombinedOutput(); err != nil {
		return fmt.Errorf("fsfreeze -f: %v %s", err, out)
	}
	l.fz = true
	return nil
}

// Thaw thaws it; thawing what is not frozen does nothing.
func (l *Loop) Thaw() {
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = exec.Command("fsfreeze", "-u", l.Dir).Run()
	l.fz = false
}

// Snapshot takes an atomic snapshot of the file system into dst: frozen,
// copied, thawed (thawed whatever happened). It returns how long the
// file system was frozen.
func (l *Loop) Snapshot(dst string) (time.Duration, error) {
	began := time.Now()
	if err := l.Freeze(); err != nil {
		return 0, err
	}
	defer l.Thaw()
	err := CopyTree(l.Dir, dst)
	return time.Since(began), err
}

// CopyTree copies src's content into dst (created), keeping owners and
// modes, as a restore of the snapshot would.
func CopyTree(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	if out, err := exec.Command("cp", "-a", src+"/.", dst).CombinedOutput(); err != nil {
		return fmt.Errorf("cp -a: %v %s", err, out)
	}
	return nil
}

// chown gives path to the OS user name.
func chown(t testing.TB, path, name string) {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
}

// asUser returns a command that runs as the OS user name (as root), in
// a process group of its own.
func asUser(name string, argv ...string) *exec.Cmd {
	if os.Geteuid() == 0 && name != "" {
		argv = append([]string{"setpriv", "--reuid", name, "--regid", name, "--init-groups", "--"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Dir = "/"
	return cmd
}

// TempDir is a short temporary directory every user may enter (socket
// paths are limited to about 100 bytes), removed by Cleanup.
func TempDir(t testing.TB, owner string) string {
	t.Helper()
	d, err := os.MkdirTemp("", "qdb")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(d, 0o755)
	if owner != "" {
		chown(t, d, owner)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func execOut(argv ...string) ([]byte, error) {
	return exec.Command(argv[0], argv[1:]...).CombinedOutput()
}
