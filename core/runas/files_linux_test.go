package runas

import (
	"errors"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// unprivileged is the account the tests act as: "notes" where it exists
// (CI creates it), else "nobody".
func unprivileged(t *testing.T) Account {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("acting as another user needs root")
	}
	for _, name := range []string{"notes", "nobody"} {
		if _, err := user.Lookup(name); err == nil {
			a, err := Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
	}
	t.Skip("no unprivileged user")
	return Account{}
}

func dirs(t *testing.T, a Account) (own, rootOnly string) {
	t.Helper()
	base, err := os.MkdirTemp("", "runas-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	own, rootOnly = filepath.Join(base, "own"), filepath.Join(base, "root")
	if err := os.Mkdir(own, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(own, a.UID, a.GID); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(rootOnly, 0o700); err != nil {
		t.Fatal(err)
	}
	return own, rootOnly
}

// What Files creates belongs to the account; what the account cannot
// reach, Files cannot either; and the rest of the process stays root.
func TestFilesActsAsTheAccount(t *testing.T) {
	a := unprivileged(t)
	own, rootOnly := dirs(t, a)
	secret := filepath.Join(rootOnly, "secret")
	if err := os.WriteFile(secret, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := OpenAppend(a, filepath.Join(own, "sub", "log"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	f.Close()
	if uid := st.Sys().(*syscall.Stat_t).Uid; int(uid) != a.UID {
		t.Errorf("created as uid %d, want %d", uid, a.UID)
	}
	if err := os.Symlink(secret, filepath.Join(own, "link")); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(a, filepath.Join(own, "link"), 100); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("read through a link to a root-only file: %v, want permission denied", err)
	}
	if _, err := OpenAppend(a, filepath.Join(rootOnly, "new"), 0o644); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("create in a root-only directory: %v, want permission denied", err)
	}
	if err := Remove(a, secret); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("remove a root-only file: %v, want permission denied", err)
	}
	if _, err := os.ReadFile(secret); err != nil {
		t.Errorf("the process is no longer root afterwards: %v", err)
	}
}

// The account's identity never leaks into another goroutine's thread:
// root's reads go on succeeding while many Files calls run.
func TestFilesNeverLeaks(t *testing.T) {
	a := unprivileged(t)
	own, rootOnly := dirs(t, a)
	secret := filepath.Join(rootOnly, "secret")
	if err := os.WriteFile(secret, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for i := 0; i < 200; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, err := OpenInput(a, filepath.Join(own, "missing")); !errors.Is(err, fs.ErrNotExist) {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := os.ReadFile(secret); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A FIFO does not block an open, and is refused where a file is wanted.
func TestOpenFileRefusesFIFO(t *testing.T) {
	a := unprivileged(t)
	own, _ := dirs(t, a)
	fifo := filepath.Join(own, "fifo")
	if err := syscall.Mkfifo(fifo, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFile(a, fifo, os.O_RDONLY, 0); !errors.Is(err, ErrNotRegular) {
		t.Errorf("FIFO: %v, want ErrNotRegular", err)
	}
	f, err := OpenInput(a, fifo) // standard input may be a FIFO
	if err != nil {
		t.Fatalf("FIFO as input: %v", err)
	}
	f.Close()
}
