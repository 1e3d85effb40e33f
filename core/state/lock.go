package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// ErrLocked: another quiesce holds the target's lock.
var ErrLocked = errors.New("another quiesce operation is in progress")

// Owner describes who holds a lock, for messages.
type Owner struct {
	PID   int       `json:"pid"`
	Host  string    `json:"host"`
	Op    string    `json:"op"`
	Since time.Time `json:"since"`
}

// LockedError names the holder of a lock that did not come free in time.
type LockedError struct {
	Path   string
	Waited time.Duration
	Holder Owner
}

func (e *LockedError) Error() string {
	h := e.Holder
	return fmt.Sprintf("waited %s for %s: held by quiesce PID %d on %s (%s since %s)",
		e.Waited.Round(time.Millisecond), e.Path, h.PID, h.Host, h.Op, h.Since.Format(time.RFC3339))
}
func (e *LockedError) Unwrap() error { return ErrLocked }

// Lock is a held lock; the operating system releases it when the process
// dies, so a crashed quiesce never blocks the next one.
type Lock struct{ f *os.File }

// lockPoll is how often a busy lock is retried.
const lockPoll = 25 * time.Millisecond

// Lock takes the lock of target, waiting up to wait.
func (s *Store) Lock(ctx context.Context, target, op string, wait time.Duration) (*Lock, error) {
	path := filepath.Join(s.dir, target+".lock")
	f, err := openLock(path)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	began := time.Now()
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if ok {
			writeOwner(f, op)
			return &Lock{f: f}, nil
		}
		if time.Since(began) >= wait || ctx.Err() != nil {
			holder := readOwner(f)
			f.Close()
			return nil, &LockedError{Path: path, Waited: time.Since(began), Holder: holder}
		}
		select {
		case <-ctx.Done():
		case <-time.After(lockPoll):
		}
	}
}

// openLock opens a lock file, creating it when missing. On a file system
// gone read-only an existing lock file is opened for reading, which is
// enough to lock it: bringing an application back must not wait for the
// state directory to be writable again.
func openLock(path string) (*os.File, error) {
	f, err := openNoFollow(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil && readOnly(err) {
		return openNoFollow(path, os.O_RDONLY, 0)
	}
	return f, err
}

// Unlock releases the lock.
func (l *Lock) Unlock() {
	if l == nil || l.f == nil {
		return
	}
	_ = unlock(l.f)
	l.f.Close()
	l.f = nil
}

func writeOwner(f *os.File, op string) {
	host, _ := os.Hostname()
	b, _ := json.Marshal(Owner{PID: os.Getpid(), Host: host, Op: op, Since: time.Now()})
	_ = f.Truncate(0)
	_, _ = f.WriteAt(append(b, '\n'), 0)
}

func readOwner(f *os.File) Owner {
	var o Owner
	if _, err := f.Seek(0, io.SeekStart); err == nil {
		_ = json.NewDecoder(f).Decode(&o)
	}
	return o
}

// Held reports whether some process holds the lock named name, without
// taking it and without touching the owner it names.
func (s *Store) Held(name string) (bool, error) {
	path := filepath.Join(s.dir, name+".lock")
	f, err := openLock(path)
	if err != nil {
		return false, fmt.Errorf("lock %s: %w", path, err)
	}
	defer f.Close()
	ok, err := tryLock(f)
	if err != nil {
		return false, fmt.Errorf("lock %s: %w", path, err)
	}
	if ok {
		_ = unlock(f)
	}
	return !ok, nil
}
