//go:build linux

package state

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSaveLoadClear(t *testing.T) {
	s := open(t)
	r, err := s.Load("domino")
	if err != nil || !r.Empty() || r.Instance != "domino" {
		t.Fatalf("missing record: %+v %v", r, err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	r.Holders = []Holder{{Caller: "vmware", Since: now, PID: 42}}
	r.Owed, r.Phase, r.Deadline = true, PhaseHeld, now.Add(time.Hour)
	if err := s.Save(r); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load("domino")
	if err != nil || !got.Frozen() || !got.Owed || got.Holders[0] != r.Holders[0] || !got.Deadline.Equal(r.Deadline) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	entries, _ := os.ReadDir(s.Dir())
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Fatalf("temporary file left: %s", e.Name())
		}
		info, _ := e.Info()
		if info.Mode().Perm() != 0o600 {
			t.Fatalf("%s has mode %04o", e.Name(), info.Mode().Perm())
		}
	}
	if st, _ := os.Stat(s.Dir()); st.Mode().Perm() != 0o700 {
		t.Fatalf("state dir mode %04o", st.Mode().Perm())
	}
	if err := s.Clear("domino"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Load("domino"); !got.Empty() {
		t.Fatalf("after clear: %+v", got)
	}
}

func TestCorruptRecord(t *testing.T) {
	s := open(t)
	for _, body := range []string{`{"version":2,"instance":"dom`, `{"version":9,"instance":"domino"}`, ``} {
		if err := os.WriteFile(filepath.Join(s.Dir(), "domino.json"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := s.Load("domino")
		var ce *CorruptError
		if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "quiesce recover") {
			t.Errorf("%q: got %v", body, err)
		}
	}
}

func TestSymlinkRefused(t *testing.T) {
	s := open(t)
	target := filepath.Join(t.TempDir(), "elsewhere.json")
	if err := os.WriteFile(target, []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(s.Dir(), "domino.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("domino"); !errors.Is(err, ErrUnsafe) {
		t.Fatalf("symlinked state file: %v", err)
	}
	if err := os.Symlink(target, filepath.Join(s.Dir(), "domino.lock")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lock(context.Background(), "domino", "test", 0); !errors.Is(err, ErrUnsafe) {
		t.Fatalf("symlinked lock: %v", err)
	}
}

func TestUnsafeDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "open")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "chmod 0700") {
		t.Fatalf("world-writable dir: %v", err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(link); !errors.Is(err, ErrUnsafe) {
		t.Fatalf("symlinked dir: %v", err)
	}
}

func TestLockContentionNamesHolder(t *testing.T) {
	s := open(t)
	l, err := s.Lock(context.Background(), "domino", "freeze", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Lock(context.Background(), "domino", "thaw", 100*time.Millisecond)
	var le *LockedError
	if !errors.As(err, &le) || le.Holder.PID != os.Getpid() || le.Holder.Op != "freeze" || le.Waited < 100*time.Millisecond {
		t.Fatalf("got %v", err)
	}
	l.Unlock()
	l2, err := s.Lock(context.Background(), "domino", "thaw", 0)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	l2.Unlock()
}

// A lock held by a process that dies is released by the kernel.
func TestLockOfDeadProcessIsFree(t *testing.T) {
	s := open(t)
	path := filepath.Join(s.Dir(), "domino.lock")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	holder := exec.Command("flock", "-o", path, "sleep", "60")
	holder.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	t.Cleanup(func() { _ = syscall.Kill(-holder.Process.Pid, syscall.SIGKILL) })
	if err := holder.Start(); err != nil {
		t.Skip("flock(1) not available:", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		probe, err := s.Lock(context.Background(), "domino", "probe", 0)
		if errors.Is(err, ErrLocked) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		probe.Unlock() // the probe got it before flock(1) did; retry
		if time.Now().After(deadline) {
			t.Fatal("flock(1) never took the lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = holder.Process.Kill()
	_ = holder.Wait()
	l, err := s.Lock(context.Background(), "domino", "after", time.Second)
	if err != nil {
		t.Fatalf("lock of a dead holder still blocks: %v", err)
	}
	l.Unlock()
}

// Held probes a lock without taking it and without rewriting its owner.
func TestHeldProbesWithoutTaking(t *testing.T) {
	s := open(t)
	if held, err := s.Held("domino.watchdog"); err != nil || held {
		t.Fatalf("free lock: held %v, %v", held, err)
	}
	l, err := s.Lock(context.Background(), "domino.watchdog", "watchdog", 0)
	if err != nil {
		t.Fatal(err)
	}
	if held, err := s.Held("domino.watchdog"); err != nil || !held {
		t.Fatalf("taken lock: held %v, %v", held, err)
	}
	_, err = s.Lock(context.Background(), "domino.watchdog", "second", 0)
	var le *LockedError
	if !errors.As(err, &le) || le.Holder.Op != "watchdog" {
		t.Fatalf("the probe changed the lock or its owner: %v", err)
	}
	l.Unlock()
	if held, err := s.Held("domino.watchdog"); err != nil || held {
		t.Fatalf("released lock: held %v, %v", held, err)
	}
}

// Version 1's records are read as they were written and upgraded to the
// instance's record: a stop freeze keeps its holders, what it owes and
// when it stopped; an online one its backup.
func TestLegacyUpgrade(t *testing.T) {
	s := open(t)
	stop := `{"version":1,"target":"domino","holders":[{"caller":"vmware","since":"2026-12-01T10:00:00Z","pid":7}],"was_running":true,"stopped_by_freeze":true,"phase":"stopped","stopped_at":"2026-12-01T10:00:01Z","frozen_at":"2026-12-01T10:00:05Z","deadline":"2026-12-01T11:00:00Z","updated":"2026-12-01T10:00:05Z"}`
	online := `{"version":1,"target":"domino-online","holders":[{"caller":"veeam","since":"2026-12-01T10:00:00Z","pid":8}],"was_running":true,"stopped_by_freeze":false,"phase":"backup-mode","deadline":"2026-12-01T10:01:40Z","updated":"2026-12-01T10:00:02Z","backup":{"token":"abc","id":"20261201100000","requested":"2026-12-01T10:00:00Z","in_mode":"2026-12-01T10:00:02Z","window_end":"2026-12-01T10:01:40Z"}}`
	for name, body := range map[string]string{"domino": stop, "domino-online": online} {
		if err := os.WriteFile(filepath.Join(s.Dir(), name+".json"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	l, ok, err := s.LoadLegacy("domino")
	if err != nil || !ok {
		t.Fatalf("legacy stop record: %v %v", ok, err)
	}
	r := l.Upgrade("domino-notesdata-1", "domino /local/notesdata")
	if r.Method != LegacyStopMethod || !r.Owed || r.Phase != PhaseHeld || !r.Frozen() || r.Holders[0].Caller != "vmware" ||
		r.Since.Format(time.RFC3339) != "2026-12-01T10:00:01Z" || r.HeldAt.Format(time.RFC3339) != "2026-12-01T10:00:05Z" ||
		!strings.Contains(string(r.Data), `"was_running":true`) || r.Instance != "domino-notesdata-1" {
		t.Fatalf("upgraded stop record: %+v data %s", r, r.Data)
	}
	l, ok, err = s.LoadLegacy("domino-online")
	if err != nil || !ok || l.Backup == nil {
		t.Fatalf("legacy online record: %v %v", ok, err)
	}
	r = l.Upgrade("domino-notesdata-1", "domino /local/notesdata")
	if r.Method != LegacyBackupMethod || !r.Owed || r.Phase != PhaseHeld || !strings.Contains(string(r.Data), `"token":"abc"`) ||
		!strings.Contains(string(r.Data), `"id":"20261201100000"`) {
		t.Fatalf("upgraded online record: %+v data %s", r, r.Data)
	}
	if _, ok, err := s.LoadLegacy("nothing"); ok || err != nil {
		t.Fatalf("missing legacy record: %v %v", ok, err)
	}
}
