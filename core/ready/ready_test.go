package ready

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

var ctx = context.Background()

func TestTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if !(TCP{addr}).Ready(ctx) {
		t.Fatal("listening port not ready")
	}
	l.Close()
	if (TCP{addr}).Ready(ctx) {
		t.Fatal("closed port ready")
	}
}

func TestHTTP(t *testing.T) {
	status := http.StatusServiceUnavailable
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) }))
	defer srv.Close()
	if (HTTP{srv.URL}).Ready(ctx) {
		t.Fatal("503 counted as ready")
	}
	status = http.StatusNoContent
	if !(HTTP{srv.URL}).Ready(ctx) {
		t.Fatal("204 not ready")
	}
}

func TestLogLineOnlyNewCompleteLines(t *testing.T) {
	file := filepath.Join(t.TempDir(), "app.log")
	if err := os.WriteFile(file, []byte("old: ready to accept connections\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := NewLogLine(file, "ready to accept connections", nil)
	if p.Ready(ctx) {
		t.Fatal("a line from before the start counted")
	}
	f, _ := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	defer f.Close()
	f.WriteString("starting\nready to accept conn")
	if p.Ready(ctx) {
		t.Fatal("a partial line counted")
	}
	f.WriteString("ections\n")
	if !p.Ready(ctx) {
		t.Fatal("the appended line was missed")
	}
}

// TestMain doubles as the readiness command of TestCommand: with
// READY_TEST_EXIT set, the test binary exits with that code at once, on
// every platform (no true/false needed).
func TestMain(m *testing.M) {
	if code := os.Getenv("READY_TEST_EXIT"); code != "" {
		n, _ := strconv.Atoi(code)
		os.Exit(n)
	}
	os.Exit(m.Run())
}

func TestCommand(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exitWith := func(code string) func(ctx context.Context, args []string) *exec.Cmd {
		return func(ctx context.Context, args []string) *exec.Cmd {
			cmd := exec.CommandContext(ctx, args[0], args[1:]...)
			cmd.Env = append(os.Environ(), "READY_TEST_EXIT="+code)
			return cmd
		}
	}
	if !(Command{Args: []string{self}, Make: exitWith("0")}).Ready(ctx) || (Command{Args: []string{self}, Make: exitWith("1")}).Ready(ctx) {
		t.Fatal("exit status not honoured")
	}
}

func TestWait(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l.Close()
	if err := Wait(ctx, []Probe{TCP{l.Addr().String()}}, time.Now().Add(time.Second), nil); err != nil {
		t.Fatal(err)
	}
	err := Wait(ctx, []Probe{TCP{"127.0.0.1:1"}}, time.Now().Add(100*time.Millisecond), nil)
	var nr *NotReadyError
	if !errors.As(err, &nr) || nr.Failing[0] != "TCP 127.0.0.1:1 accepting" {
		t.Fatalf("got %v", err)
	}
	exited := make(chan error, 1)
	boom := errors.New("exited with 3")
	exited <- boom
	if err := Wait(ctx, []Probe{TCP{"127.0.0.1:1"}}, time.Now().Add(time.Minute), exited); !errors.Is(err, boom) {
		t.Fatalf("exit not reported: %v", err)
	}
}

// counting is a probe that counts its checks.
type counting struct {
	checks int
	pass   bool
}

func (c *counting) Ready(context.Context) bool { c.checks++; return c.pass }
func (c *counting) String() string             { return "counting" }

// The unwatched probes (a port, a command) are checked only once the log
// line has come, and once more at the deadline to say whether they fail.
func TestWaitChecksOthersAfterTheLogLine(t *testing.T) {
	file := filepath.Join(t.TempDir(), "console.log")
	port := &counting{}
	err := Wait(ctx, []Probe{port, NewLogLine(file, "Server started", nil)}, time.Now().Add(100*time.Millisecond), nil)
	var nr *NotReadyError
	if !errors.As(err, &nr) || len(nr.Failing) != 2 || port.checks != 1 {
		t.Fatalf("got %v after %d checks of the port, want both failing and one check", err, port.checks)
	}
	port = &counting{pass: true}
	logLine := NewLogLine(file, "Server started", nil)
	go func() {
		time.Sleep(30 * time.Millisecond)
		_ = os.WriteFile(file, []byte("Server started on physical node\n"), 0o644)
	}()
	if err := Wait(ctx, []Probe{port, logLine}, time.Now().Add(time.Minute), nil); err != nil || port.checks != 1 {
		t.Fatalf("got %v after %d checks of the port, want ready after one", err, port.checks)
	}
}
