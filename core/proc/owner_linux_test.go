package proc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"

	"github.com/shirou/gopsutil/v3/process"
	"golang.org/x/sys/unix"
)

// init: with PROC_TEST_NODUMP set, the test binary running as a
// discovered process (TestMain) makes itself not dumpable first, as a
// hardened daemon does: its /proc files then belong to root.
func init() {
	if os.Getenv("PROC_TEST_NODUMP") != "" {
		_ = unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	}
}

func TestParseUID(t *testing.T) {
	for in, want := range map[string]int32{
		"Name:\tserver\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t999\t0\t999\t999\nGid:\t995\n": 999,
		"Name:\tx\nUid:  0 0 0 0\n":             0,
		"Name:\tUid:\t5\nUid:\t7\t7\t7\t7\n":    7, // a task named "Uid:" does not fool it
		"Name:\tx\nUid:\t4294967295\t0\t0\t0\n": -1,
		"Name:\tx\nGid:\t5\n":                   -1, // no Uid line
		"Name:\tx\nUid:\t12":                    -1, // cut short
	} {
		got, ok := parseUID([]byte(in))
		if !ok {
			got = -1
		}
		if got != want {
			t.Errorf("%q: got %d, want %d", in, got, want)
		}
	}
}

// account looks up a local user for the ownership tests.
func account(t *testing.T, name string) *syscall.Credential {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		t.Skipf("no user %s", name)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

// runAs starts exe as cred (nil: as this process) with env added and
// returns its PID.
func runAs(t *testing.T, exe string, cred *syscall.Credential, env ...string) int32 {
	t.Helper()
	cmd := exec.Command(exe)
	cmd.Env = append(append(os.Environ(), "PROC_TEST_SLEEP=60"), env...)
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return int32(cmd.Process.Pid)
}

func pidsOf(procs []Proc) []int32 {
	var out []int32
	for _, p := range procs {
		out = append(out, p.PID)
	}
	slices.Sort(out)
	return out
}

func sorted(pids ...int32) []int32 { slices.Sort(pids); return pids }

// The owner check finds every process whose real UID is the owner's, also
// one that made itself not dumpable (its /proc files become root's) and
// ones running set-user-ID programs of root and of another user (their
// effective UID is not the owner's), and never another user's or root's:
// real processes of real users.
func TestOwnerByRealUID(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run processes as other users")
	}
	notes, nobody := account(t, "notes"), account(t, "nobody")
	root, err := os.MkdirTemp("", "proc-owner-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	dir := filepath.Join(root, "notes")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(root, 0o755)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	worker := filepath.Join(dir, "worker")
	copyExe(t, self, worker)
	ofNotes, hardened := runAs(t, worker, notes), runAs(t, worker, notes, "PROC_TEST_NODUMP=1")
	ofNobody, ofRoot := runAs(t, worker, nobody), runAs(t, worker, nil)
	ours := []int32{ofNotes, hardened}
	if st := statfs(t, dir); st.Flags&unix.ST_NOSUID == 0 {
		for _, as := range []*syscall.Credential{nil, nobody} {
			exe := filepath.Join(dir, fmt.Sprintf("setuid%d", len(ours)))
			copyExe(t, self, exe)
			if as != nil {
				if err := os.Chown(exe, int(as.Uid), int(as.Gid)); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chmod(exe, os.ModeSetuid|0o755); err != nil {
				t.Fatal(err)
			}
			pid := runAs(t, exe, notes)
			if uids, err := (&process.Process{Pid: pid}).Uids(); err != nil || len(uids) < 2 || uids[1] == int32(notes.Uid) {
				t.Fatalf("setup: %s should run with another effective UID: %v %v", exe, uids, err)
			}
			ours = append(ours, pid)
		}
	} else {
		t.Log("temporary directory mounted nosuid: set-user-ID cases not run")
	}
	for _, c := range []struct {
		uid  int32
		want []int32
	}{
		{int32(notes.Uid), sorted(ours...)},
		{int32(nobody.Uid), sorted(ofNobody)}, // not the set-user-ID nobody one
		{0, sorted(ofRoot)},                   // nor the set-user-ID root one
		{-1, sorted(append([]int32{ofNobody, ofRoot}, ours...)...)},
	} {
		procs, err := NewSystem().Scan(Matcher{UID: c.uid, Prefixes: []string{dir}})
		if got := pidsOf(procs); err != nil || !slices.Equal(got, c.want) {
			t.Errorf("owner %d: found %v, want %v (%v)", c.uid, got, c.want, err)
		}
		for _, p := range procs {
			if uids, _ := (&process.Process{Pid: p.PID}).Uids(); c.uid >= 0 && (len(uids) == 0 || uids[0] != c.uid || p.UID != c.uid) {
				t.Errorf("%v: real UID %v (gopsutil), scanned %d, wanted %d", p, uids, p.UID, c.uid)
			}
		}
	}
}

func statfs(t *testing.T, dir string) unix.Statfs_t {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// Over the whole live process table (this machine's other tests, daemons,
// kernel threads), the cheap check decides as gopsutil's real UID does.
func TestOwnerAgreesWithGopsutil(t *testing.T) {
	pids, err := process.Pids()
	if err != nil {
		t.Fatal(err)
	}
	candidates := []int32{0, int32(os.Geteuid())}
	for _, name := range []string{"notes", "nobody"} {
		if u, err := user.Lookup(name); err == nil {
			id, _ := strconv.Atoi(u.Uid)
			candidates = append(candidates, int32(id))
		}
	}
	checked := 0
	for _, pid := range pids {
		gp := &process.Process{Pid: pid}
		uids, err := gp.Uids()
		if err != nil || len(uids) < 2 {
			continue // gone
		}
		for _, uid := range candidates {
			_, got := owner(context.TODO(), &process.Process{Pid: pid}, Matcher{UID: uid})
			want := uids[0] == uid
			if got == want {
				continue
			}
			if again, err := gp.Uids(); err != nil || !slices.Equal(again, uids) {
				continue // gone or changed meanwhile
			}
			t.Errorf("PID %d (uids %v): owner %d decided %v, gopsutil says %v", pid, uids, uid, got, want)
		}
		checked++
	}
	if checked < 10 {
		t.Fatalf("only %d processes checked", checked)
	}
}

// BenchmarkOwner compares, over the live process table at the same
// moment, the owner check by gopsutil's Uids (which parses all of
// /proc/PID/status) with the one the scan uses (its Uid line only).
func BenchmarkOwner(b *testing.B) {
	pids, err := process.Pids()
	if err != nil {
		b.Fatal(err)
	}
	m := Matcher{UID: int32(os.Geteuid()) + 1}
	for _, c := range []struct {
		name  string
		owner func(pid int32) bool
	}{
		{"gopsutil", func(pid int32) bool {
			uids, err := (&process.Process{Pid: pid}).Uids()
			return err == nil && uids[0] == m.UID
		}},
		{"status-line", func(pid int32) bool { _, ok := owner(context.TODO(), &process.Process{Pid: pid}, m); return ok }},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				for _, pid := range pids {
					c.owner(pid)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(pids)), "µs/process")
		})
	}
}
