//go:build linux

package conformance

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// redisTarget writes a [target cache] section for a real redis-server from
// Debian, on a loopback port, with its data in dir.
func redisTarget(t *testing.T, user, dir string, port int) string {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		simtest.Require(t, false, "redis-server is not installed (apt-get install redis-server)")
	}
	return fmt.Sprintf(`
[target cache]
manager = commands
user = %[1]s
start = ["/usr/bin/redis-server", "--port", "%[2]d", "--bind", "127.0.0.1", "--daemonize", "yes", "--dir", "%[3]s", "--pidfile", "%[3]s/redis.pid", "--logfile", "%[3]s/redis.log", "--appendonly", "yes", "--save", ""]
stop = ["/usr/bin/redis-cli", "-p", "%[2]d", "shutdown"]
process_path = /usr/bin/redis-server
process_names = redis-server
ready_tcp = 127.0.0.1:%[2]d
ready_log = %[3]s/redis.log: Ready to accept connections
stop_timeout = 20s
kill_wait = 2s
start_timeout = 20s
`, user, port, dir)
}

// redisSetup prepares a data directory the application's user owns.
func redisSetup(t *testing.T, user string) (string, int) {
	t.Helper()
	dir, err := os.MkdirTemp("", "quiesce-redis-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	_ = os.Chmod(dir, 0o755)
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chown", user, dir).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v %s", err, out)
		}
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return dir, port
}

// startRedis starts redis-server by hand as user, as an administrator
// would before the backup.
func startRedis(t *testing.T, user, dir string, port int) {
	t.Helper()
	args := []string{"/usr/bin/redis-server", "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--daemonize", "yes",
		"--dir", dir, "--logfile", dir + "/redis.log", "--appendonly", "yes", "--save", ""}
	if os.Geteuid() == 0 {
		args = append([]string{"setpriv", "--reuid", user, "--regid", user, "--init-groups"}, args...)
	}
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("start redis: %v %s", err, out)
	}
}

func redisServing(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	fmt.Fprint(c, "PING\r\n")
	buf := make([]byte, 16)
	n, _ := c.Read(buf)
	return strings.HasPrefix(string(buf[:n]), "+PONG")
}

func genericConfig(t *testing.T, body string) (cfgPath string, env hookEnv, logFile string) {
	dir := t.TempDir()
	t.Cleanup(func() { simtest.KillWatchdogs(filepath.Join(dir, "state")) }) // as newRigWith
	cfgPath = filepath.Join(dir, "quiesce.conf")
	if err := os.WriteFile(cfgPath, []byte(body+fmt.Sprintf("\n[freeze]\nstate_dir = %s\n", filepath.Join(dir, "state"))), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile = filepath.Join(dir, "quiesce.log")
	return cfgPath, hookEnv{"QUIESCE_CONFIG=" + cfgPath, "QUIESCE_LOG_FILE=" + logFile}, logFile
}

func runQ(t *testing.T, env hookEnv, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(simtest.Binary(t, "quiesce"), args...)
	cmd.Env = append(os.Environ(), env...)
	out, _ := cmd.CombinedOutput()
	return cmd.ProcessState.ExitCode(), string(out)
}

// A real Redis from Debian as a generic target, driven by the real
// qemu-ga: freeze stops it cleanly (its append-only file is closed), thaw
// brings it back, readiness comes from its port and its log.
func TestGenericRedis(t *testing.T) {
	user := simtest.User(t)
	dir, port := redisSetup(t, user)
	_, env, logFile := genericConfig(t, redisTarget(t, user, dir, port))
	t.Cleanup(func() { _ = exec.Command("redis-cli", "-p", fmt.Sprint(port), "shutdown", "nosave").Run() })
	if code, out := runQ(t, env, "qemu", "thaw"); code != 0 {
		t.Fatalf("thaw without freeze: %s", out)
	}
	if code, out := runQ(t, env, "status"); code != 3 || !strings.Contains(out, "cache is stopped") {
		t.Fatalf("status of a stopped target: %d %s", code, out)
	}
	startRedis(t, user, dir, port)
	if code, out := runQ(t, env, "status"); code != 0 || !strings.Contains(out, "cache is running: 1 processes") {
		t.Fatalf("status of a running target: %d %s", code, out)
	}
	simtest.Eventually(t, 10*time.Second, "redis serving", func() bool { return redisServing(port) })

	dirHook := t.TempDir()
	hook := filepath.Join(dirHook, "fsfreeze-hook")
	if code, out := runQ(t, env, "install", "qemu", "--hook", hook, "--dropin-dir", filepath.Join(dirHook, "d"), "--binary", simtest.Binary(t, "quiesce")); code != 0 {
		t.Fatal(out)
	}
	ga := startQemuGA(t, hook, env)
	f := ga.Freeze(t)
	mustOK(t, f)
	if redisServing(port) {
		t.Fatal("redis still serving after freeze")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "redis.log")); !strings.Contains(string(b), "ready to exit, bye bye") {
		t.Fatalf("redis did not shut down cleanly:\n%s", b)
	}
	th := ga.Thaw(t)
	mustOK(t, th)
	if !redisServing(port) {
		t.Fatal("redis not serving after thaw")
	}
	if b, _ := os.ReadFile(logFile); !strings.Contains(string(b), `"target":"cache"`) {
		t.Fatal("the log does not name the target")
	}
}

// Domino and Redis as one group: Redis (later in the order) stops first;
// when Domino's stop then fails, Redis is started again before the freeze
// reports failure.
func TestGroupFreezeFailingPartWayRestores(t *testing.T) {
	simtest.Slow(t)
	sim := simtest.New(t, simtest.Options{ShutdownSeconds: 0.2, Ini: map[string]string{"SimHangTask": "router"}})
	dir, port := redisSetup(t, sim.User)
	body := fmt.Sprintf("[domino]\nuser = %s\nlotus = %s\ndata = %s\nshutdown_timeout = 1s\nkill_wait = 2s\n", sim.User, sim.Lotus, sim.Data) +
		redisTarget(t, sim.User, dir, port)
	_, env, _ := genericConfig(t, body)
	t.Cleanup(func() { _ = exec.Command("redis-cli", "-p", fmt.Sprint(port), "shutdown", "nosave").Run() })
	if code, out := runQ(t, env, "start"); code != 0 {
		t.Fatal(out)
	}
	// Redis is down: thaw after a freeze of both must not start it.
	code, out := runQ(t, env, "vmware", "freeze")
	if code == 0 || !strings.Contains(out, "domino "+sim.Data+": ") || strings.Count(out, "started again") != 1 {
		t.Fatalf("group freeze with a hung Domino task: %d %s", code, out)
	}
	if !sim.Serving() {
		t.Fatal("Domino not restored")
	}
	if redisServing(port) {
		t.Fatal("Redis was not running before the freeze and must not be started")
	}
	// Now with Redis running too.
	runQ(t, env, "vmware", "thaw")
	if code, out := runQ(t, env, "qemu", "thaw"); code != 0 {
		t.Fatal(out)
	}
	startRedis(t, sim.User, dir, port)
	simtest.Eventually(t, 10*time.Second, "redis serving", func() bool { return redisServing(port) })
	code, out = runQ(t, env, "veeam", "pre-freeze")
	if code == 0 || !strings.Contains(out, "the application was started again") {
		t.Fatalf("group freeze: %d %s", code, out)
	}
	if !redisServing(port) || !sim.Serving() {
		t.Fatalf("not both restored: redis %v domino %v", redisServing(port), sim.Serving())
	}
}
