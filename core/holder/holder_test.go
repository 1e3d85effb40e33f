//go:build linux

package holder_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/holder"
	"github.com/quiesce/quiesce/core/proc"
	"github.com/quiesce/quiesce/core/state"
)

// The test binary is its own holder: "TEST hold" runs holder.Main, as
// "quiesce hold" does.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "hold" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		defer stop()
		log := zap.NewNop()
		if f := os.NewFile(holder.FDLog, "log"); f != nil {
			log = zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), f, zapcore.DebugLevel))
		}
		if err := holder.Main(ctx, os.Stdin, kinds, log, clock.Real{}); err != nil {
			log.Error("holder failed", zap.Error(err))
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(simtest.Main(m))
}

func kinds(kind string) holder.Factory {
	if kind == "flock" {
		return newFlock
	}
	return nil
}

// flock is a real lock that, like a database's backup lock, lives as
// long as the session that took it: an exclusive flock on a file, held
// by the holder's open file; the file's content names the session.
type flock struct {
	path string
	f    *os.File
}

func newFlock(conn json.RawMessage, _ *zap.Logger) (holder.Lock, error) {
	var c struct{ Path string }
	if err := json.Unmarshal(conn, &c); err != nil {
		return nil, err
	}
	return &flock{path: c.Path}, nil
}

func (l *flock) Acquire(ctx context.Context) (holder.Facts, error) {
	f, err := os.OpenFile(l.path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", holder.ErrRefused, err)
	}
	for {
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("%w: the file is locked by another process", holder.ErrTimeout)
		case <-time.After(10 * time.Millisecond):
		}
	}
	l.f = f
	return holder.Facts{holder.FactSession: l.session(), holder.FactMode: "flock"}, nil
}

func (l *flock) session() string { return fmt.Sprintf("%d/%d", os.Getpid(), l.f.Fd()) }

func (l *flock) Alive(context.Context) (string, error) {
	if l.f == nil {
		return "", errors.New("closed")
	}
	if _, err := os.Stat(l.path + ".break"); err == nil {
		return "", errors.New("the session was broken") // the test breaks it
	}
	return l.session(), nil
}

func (l *flock) Release(context.Context) (holder.Facts, error) {
	err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	return holder.Facts{"released": "yes"}, err
}

func (l *flock) Probe(context.Context) (holder.Facts, error) { return holder.Facts{"probe": "ok"}, nil }

func (l *flock) Close() error {
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// driver is the parent's side of the flock kind.
type driver struct {
	path string
	sock string // stands for the server's socket: a listening one
}

func (d driver) Kind() string   { return "flock" }
func (d driver) Server() string { return "Flock" }
func (d driver) Socket() string { return d.sock }
func (d driver) Conn(time.Duration) (json.RawMessage, error) {
	return json.Marshal(map[string]string{"Path": d.path})
}
func (d driver) Held(f holder.Facts) string     { return "flock held by session " + f[holder.FactSession] }
func (d driver) Describe(f holder.Facts) string { return "flock-held" }
func (d driver) Released(_ *freeze.Run, _, rel holder.Facts) (string, []string, error) {
	return "released=" + rel["released"], nil, nil
}

// locked reports whether another process holds the flock on path.
func locked(t *testing.T, path string) bool {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return true
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

type rig struct {
	path  string
	store *state.Store
	m     *holder.Method
	s     *freeze.Session
}

func newRig(t *testing.T, maxHold time.Duration) *rig {
	dir := t.TempDir()
	path := filepath.Join(dir, "lockfile")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "server.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	store, err := state.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	self, _ := os.Executable()
	log := zaptest.NewLogger(t)
	hlog, err := os.Create(filepath.Join(dir, "holder.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		hlog.Close()
		if t.Failed() {
			b, _ := os.ReadFile(hlog.Name())
			t.Logf("holder log:\n%s", b)
		}
	})
	m := holder.New(driver{path: path, sock: sock}, holder.Settings{Name: "flock", Launcher: holder.Launcher{Path: self, Args: []string{"hold"}, Log: hlog},
		EnterTimeout: 2 * time.Second, MaxHold: maxHold, ReleaseTimeout: 5 * time.Second, Heartbeat: 100 * time.Millisecond}, log, clock.Real{})
	inst := freeze.Instance{Kind: "flock", Ident: path, Name: "flk"}
	s := freeze.New(inst, store, freeze.Policy{LockWait: 5 * time.Second}, log, clock.Real{}, freeze.Options{Methods: []freeze.Method{m}})
	t.Cleanup(func() { _, _ = s.Recover(context.Background(), false) })
	return &rig{path: path, store: store, m: m, s: s}
}

func caller(name string) freeze.Caller { return freeze.Caller{Name: name, Budget: 20 * time.Second} }

// A freeze returns once the holder holds the lock; the lock outlives the
// freeze; a nested caller joins the same hold; the last thaw releases it
// and proves it was held throughout.
func TestHoldFreezeJoinThaw(t *testing.T) {
	r := newRig(t, time.Minute)
	ctx := context.Background()
	res, err := r.s.Freeze(ctx, caller("veeam"))
	if err != nil || res.Outcome != freeze.BackupMode {
		t.Fatalf("freeze: %+v %v", res, err)
	}
	if !locked(t, r.path) {
		t.Fatal("the lock is not held after the freeze returned")
	}
	res, err = r.s.Freeze(ctx, caller("vmware"))
	if err != nil || res.Outcome != freeze.Joined {
		t.Fatalf("nested freeze: %+v %v", res, err)
	}
	time.Sleep(350 * time.Millisecond) // a few heartbeats
	res, err = r.s.Thaw(ctx, caller("vmware"))
	if err != nil || res.Outcome != freeze.StillHeld || !locked(t, r.path) {
		t.Fatalf("first thaw: %+v %v (locked %v)", res, err, locked(t, r.path))
	}
	res, err = r.s.Thaw(ctx, caller("veeam"))
	if err != nil || res.Outcome != freeze.Released {
		t.Fatalf("last thaw: %+v %v", res, err)
	}
	if locked(t, r.path) {
		t.Fatal("the lock is still held after the thaw")
	}
	for _, want := range []string{"without a break", "released=yes"} {
		if !strings.Contains(res.Message, want) {
			t.Fatalf("thaw message %q lacks %q", res.Message, want)
		}
	}
	if _, err := os.Stat(filepath.Join(r.store.Dir(), r.s.Key()+".hold")); !os.IsNotExist(err) {
		t.Fatalf("the control socket outlived the hold: %v", err)
	}
}

// A holder SIGKILLed during the hold drops the lock; the thaw says the
// snapshot is suspect, and a joining caller is refused.
func TestHolderKilledThawIsSuspect(t *testing.T) {
	r := newRig(t, time.Minute)
	ctx := context.Background()
	if _, err := r.s.Freeze(ctx, caller("veeam")); err != nil {
		t.Fatal(err)
	}
	rec, _ := r.store.Load(r.s.Key())
	var d struct {
		PID   int32 `json:"holder_pid"`
		Start int64 `json:"holder_start"`
	}
	_ = json.Unmarshal(rec.Data, &d)
	p := proc.Proc{PID: d.PID, Start: d.Start}
	if d.PID == 0 || !proc.Alive(p) {
		t.Fatalf("no holder recorded: %s", rec.Data)
	}
	if err := proc.Signal(p, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if left := proc.Wait(ctx, []proc.Proc{p}, time.Now().Add(5*time.Second)); len(left) > 0 {
		t.Fatalf("holder %v survived SIGKILL", left)
	}
	// the kernel lets go of a killed process's files a moment after it
	// is reaped, as a server notices a dropped session
	simtest.Eventually(t, 2*time.Second, "the lock ends with its holder", func() bool { return !locked(t, r.path) })
	if _, err := r.s.Freeze(ctx, caller("vmware")); err == nil || !strings.Contains(err.Error(), "not joined") {
		t.Fatalf("a join of a lost hold: %v", err)
	}
	_, err := r.s.Thaw(ctx, caller("veeam"))
	var se *holder.SuspectError
	if !errors.As(err, &se) || !errors.Is(err, freeze.ErrThawFailed) || !strings.Contains(err.Error(), "was gone before the thaw") {
		t.Fatalf("thaw after the holder was killed: %v", err)
	}
}

// A session lost during the hold (the heartbeat finds it broken) makes
// the thaw suspect even though the holder still answers.
func TestLostSessionThawIsSuspect(t *testing.T) {
	r := newRig(t, time.Minute)
	ctx := context.Background()
	if _, err := r.s.Freeze(ctx, caller("veeam")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(r.path+".break", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	simtest.Eventually(t, 5*time.Second, "the holder notices the broken session", func() bool { return !locked(t, r.path) })
	_, err := r.s.Thaw(ctx, caller("veeam"))
	if err == nil || !strings.Contains(err.Error(), "the hold was lost") || !strings.Contains(err.Error(), "SUSPECT") {
		t.Fatalf("thaw after the session broke: %v", err)
	}
}

// A lock held by someone else past the wait: the freeze gives up in
// time, leaves nothing held and may fall back.
func TestAcquireTimeout(t *testing.T) {
	r := newRig(t, time.Minute)
	f, err := os.Open(r.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	_, err = r.s.Freeze(context.Background(), freeze.Caller{Name: "veeam", Budget: 5 * time.Second})
	took := time.Since(began)
	if err == nil || !errors.Is(err, freeze.ErrUnchanged) || !errors.Is(err, holder.ErrTimeout) {
		t.Fatalf("freeze against a held lock: %v", err)
	}
	if took > 4*time.Second {
		t.Fatalf("the freeze gave up after %s, past its budget's wait", took)
	}
	if rec, _ := r.store.Load(r.s.Key()); !rec.Empty() {
		t.Fatalf("a failed freeze left a record: %+v", rec)
	}
	if ps, _ := holders(); len(ps) > 0 {
		t.Fatalf("holders left: %v", ps)
	}
}

// No thaw: at the deadline the session's settling ends the hold (as the
// watchdog does); the late thaw is told.
func TestDeadlineEndsTheHold(t *testing.T) {
	r := newRig(t, 1500*time.Millisecond)
	ctx := context.Background()
	if _, err := r.s.Freeze(ctx, caller("veeam")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1600 * time.Millisecond)
	res, err := r.s.Recover(ctx, false)
	if err != nil || !strings.Contains(res.Message, "released by the recover") {
		t.Fatalf("recover after the deadline: %+v %v", res, err)
	}
	if locked(t, r.path) {
		t.Fatal("the lock outlived the deadline")
	}
	if _, err := r.s.Thaw(ctx, caller("veeam")); err == nil || !strings.Contains(err.Error(), "late thaw") {
		t.Fatalf("late thaw: %v", err)
	}
}

// After a reboot nothing is held: recover --boot says so.
func TestRecoverAtBoot(t *testing.T) {
	r := newRig(t, time.Minute)
	ctx := context.Background()
	if _, err := r.s.Freeze(ctx, caller("veeam")); err != nil {
		t.Fatal(err)
	}
	res, err := r.s.Recover(ctx, true)
	if err != nil || !strings.Contains(res.Message, "nothing is held") {
		t.Fatalf("recover --boot: %+v %v", res, err)
	}
	if locked(t, r.path) {
		t.Fatal("held after recover --boot")
	}
}

// holders are the test binary's holder processes still running.
func holders() ([]int, error) {
	self, _ := os.Executable()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		exe, _ := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if args := strings.Split(string(cmd), "\x00"); exe == self && len(args) > 1 && args[1] == "hold" {
			out = append(out, pid)
		}
	}
	return out, nil
}
