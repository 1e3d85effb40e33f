package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/nrpcwatch"
	"github.com/quiesce/quiesce/cmd/simdomino/nsf"
	"github.com/quiesce/quiesce/cmd/simdomino/timeline"
)

const (
	lockFile = "~notes.lck"
	pidFile  = "pid.nbf"
)

// serverDBs are the databases the main server process keeps open.
var serverDBs = []string{"names.nsf", "log.nsf"}

// taskDB maps a task to the database it keeps open; others use NAME.nsf.
var taskDB = map[string]string{
	"update": "catalog.nsf", "replica": "mail/jdoe.nsf", "router": "mail.box",
	"amgr": "mail/admin.nsf", "adminp": "admin4.nsf", "sched": "busytime.nsf",
	"http": "domcfg.nsf", "event": "events4.nsf",
}

func dbOf(task string) string {
	if db, ok := taskDB[task]; ok {
		return db
	}
	return task + ".nsf"
}

type task struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{}
}

type server struct {
	lotus, data string
	ini         ini
	con         *console
	out         io.Writer
	lock        *os.File
	dbs         []*nsf.DB
	mu          sync.Mutex
	tasks       []*task
	backup      *task // the backup task (backup.go), when loaded
	quit        chan struct{}
	quitOnce    sync.Once
	crash       atomic.Bool  // "sim crash": end as a server panic does
	restricted  atomic.Int32 // Server_Restricted (cluster.go): for this server session
}

func runServer(exe string, args []string, stdout, stderr io.Writer) int {
	if hasFlag(args, "-q") || hasFlag(args, "-c") {
		return runClient(args, stdout, stderr)
	}
	data, err := dataDirFromArgs(args)
	if err != nil {
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	n, err := readIni(data)
	if err != nil {
		fmt.Fprintf(stderr, "server: cannot read notes.ini in %s: %v\n", data, err)
		return 1
	}
	s := &server{lotus: lotusOf(exe), data: data, ini: n, con: newConsole(data, stdout), out: stdout, quit: make(chan struct{})}
	return serve(s, stderr)
}

func (s *server) run(stderr io.Writer) int {
	if os.Geteuid() == 0 {
		fmt.Fprintln(stderr, "server: the Domino server cannot be started as root")
		return 1
	}
	_ = timeline.Append(s.data, timeline.StartRequested, "")
	if err := s.acquireLock(); err != nil {
		s.con.printf("Server already running on data directory %s (%v)", s.data, err)
		_ = timeline.Append(s.data, timeline.StartFailed, "locked")
		return 1
	}
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGPIPE)
	s.restrictAtStart()
	started := time.Now()
	s.con.printf("HCL Domino (r) Server (simulated), %s", s.ini.get("ServerName"))
	ctl, err := listenControl(s.data)
	if err != nil {
		return s.failStart("cannot open the console channel: %v", err)
	}
	go s.serveControl(ctl)
	if s.ini.flag("SimFailStart") {
		return s.failStart("Server startup failed: unable to open names.nsf (simulated failure)")
	}
	if err := s.openDBs(); err != nil {
		return s.failStart("Server startup failed: %v", err)
	}
	if err := s.startTasks(); err != nil {
		return s.failStart("Server startup failed: %v", err)
	}
	if s.waitOrQuit(time.Until(started.Add(s.ini.seconds("SimStartSeconds", time.Second)))) {
		return s.shutdown()
	}
	if err := s.listen(); err != nil {
		s.con.printf("Unable to listen for NRPC: %v", err)
	}
	s.con.printf(dbSrvrLine)
	// The timeline's ready comes first: a watcher that sees the line at
	// once (quiesce's inotify) must find the event already written.
	_ = timeline.Append(s.data, timeline.Ready, "")
	s.con.printf("%s %s", readyLine, hostname())
	<-s.quit
	if s.crash.Load() {
		return s.crashNow()
	}
	return s.shutdown()
}

// crashExit is the exit code of a simulated server panic.
const crashExit = 3

// crashNow ends the server as a panic does: its tasks die at once, no
// database is closed, pid.nbf and ~notes.lck stay behind, and the process
// exits with an error (as a service, it reports stopped with that code).
// Fault injection for tests ("sim crash" on the console): Domino has no
// such command.
func (s *server) crashNow() int {
	s.con.printf("PANIC: simulated server crash")
	s.mu.Lock()
	tasks := append([]*task(nil), s.tasks...)
	s.mu.Unlock()
	for _, t := range tasks {
		_ = t.cmd.Process.Kill()
		<-t.done
	}
	_ = timeline.Append(s.data, timeline.Crashed, "")
	return crashExit
}

func (s *server) acquireLock() error {
	f, err := os.OpenFile(filepath.Join(s.data, lockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if err := lockExclusive(f); err != nil {
		holder, _ := os.ReadFile(f.Name())
		f.Close()
		return fmt.Errorf("%s held by PID %s", lockFile, strings.TrimSpace(string(holder)))
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(fmt.Sprintf("%d\n", os.Getpid())), 0)
	s.lock = f
	return nil
}

func (s *server) releaseLock() {
	if s.lock == nil {
		return
	}
	unlockRemove(s.lock)
}

func (s *server) failStart(format string, a ...any) int {
	s.con.printf(format, a...)
	_ = timeline.Append(s.data, timeline.StartFailed, "")
	s.stopTasks(0)
	s.closeDBs()
	_ = os.Remove(filepath.Join(s.data, pidFile))
	s.releaseLock()
	return 3
}

func (s *server) openDBs() error {
	for _, name := range serverDBs {
		db, err := nsf.Open(filepath.Join(s.data, name))
		if err != nil {
			return err
		}
		s.dbs = append(s.dbs, db)
		go keepWriting(db, "server", s.quit)
	}
	return nil
}

func (s *server) closeDBs() {
	for _, db := range s.dbs {
		_ = db.Close()
	}
}

// keepWriting writes to db until stop is closed, as a busy server does.
func keepWriting(db *nsf.DB, who string, stop <-chan struct{}) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if db.Write(who) != nil {
				return
			}
		}
	}
}

func (s *server) startTasks() error {
	for _, name := range s.ini.tasks() {
		t, err := s.spawn(name)
		if err != nil {
			return fmt.Errorf("cannot load task %s: %w", name, err)
		}
		s.mu.Lock()
		s.tasks = append(s.tasks, t)
		s.mu.Unlock()
		s.con.printf("%s: started", strings.ToUpper(name[:1])+name[1:])
	}
	return s.writePidFile()
}

func (s *server) spawn(name string) (*task, error) {
	cmd := exec.Command(taskExe(s.lotus, name))
	cmd.Dir = s.data
	cmd.Env = append(os.Environ(), "SIMDOMINO_DATA="+s.data)
	cmd.Stdout, cmd.Stderr = s.out, s.out
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t := &task{name: name, cmd: cmd, stdin: stdin, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(t.done) }()
	return t, nil
}

// writePidFile writes pid.nbf: one line per process, "STATUS PID TASK".
func (s *server) writePidFile() error {
	var b strings.Builder
	fmt.Fprintf(&b, "1 %d server\n", os.Getpid())
	s.mu.Lock()
	for _, t := range s.tasks {
		fmt.Fprintf(&b, "1 %d %s\n", t.cmd.Process.Pid, t.name)
	}
	s.mu.Unlock()
	return os.WriteFile(filepath.Join(s.data, pidFile), []byte(b.String()), 0o644)
}

func (s *server) listen() error {
	if s.ini.flag("SimNoListen") {
		return nil
	}
	addr, err := s.ini.nrpcAddr()
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			greeting := "NRPC simdomino " + s.ini.get("ServerName")
			if s.restricted.Load() != 0 {
				greeting += " " + nrpcwatch.Restricted
			}
			fmt.Fprintln(c, greeting)
			c.Close()
		}
	}()
	return nil
}

// waitOrQuit waits d, or less when a shutdown is requested; it reports
// whether a shutdown was requested.
func (s *server) waitOrQuit(d time.Duration) bool {
	if d <= 0 {
		d = 0
	}
	select {
	case <-s.quit:
		return true
	case <-time.After(d):
		return false
	}
}

func (s *server) requestQuit() { s.quitOnce.Do(func() { close(s.quit) }) }

// shutdown stops the tasks in reverse order over SimShutdownSeconds, closes
// the server's own databases and removes the lock.
func (s *server) shutdown() int {
	_ = timeline.Append(s.data, timeline.ShutdownRequested, "")
	s.con.printf("Server shutdown in progress")
	s.mu.Lock()
	n := len(s.tasks)
	s.mu.Unlock()
	step := s.ini.seconds("SimShutdownSeconds", 2*time.Second) / time.Duration(n+1)
	s.stopTasks(step)
	time.Sleep(step) // the server's own share of the shutdown work
	s.closeDBs()
	_ = timeline.Append(s.data, timeline.AllClosed, "")
	_ = os.Remove(filepath.Join(s.data, pidFile))
	s.releaseLock()
	s.con.printf("Server shutdown complete")
	_ = timeline.Append(s.data, timeline.Exited, "")
	return 0
}

// stopTasks asks each task, last started first, to close and exit, and
// waits for it: a task that hangs holds the whole shutdown, as in Domino.
func (s *server) stopTasks(step time.Duration) {
	s.mu.Lock()
	tasks := append([]*task(nil), s.tasks...)
	s.mu.Unlock()
	for i := len(tasks) - 1; i >= 0; i-- {
		t := tasks[i]
		fmt.Fprintf(t.stdin, "quit %d\n", step.Milliseconds())
		<-t.done
		_ = timeline.Append(s.data, timeline.TaskStopped, t.name)
		s.con.printf("%s: terminated", t.name)
	}
}

func (s *server) serveControl(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go s.handleCommand(c)
	}
}

func (s *server) handleCommand(c net.Conn) {
	defer c.Close()
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return
	}
	typed := strings.TrimSpace(line)
	cmd := strings.ToLower(typed)
	s.con.printf("> %s", cmd)
	switch cmd {
	case "quit", "exit":
		fmt.Fprintln(c, "Server shutdown requested")
		s.requestQuit()
	case "sim crash":
		fmt.Fprintln(c, "PANIC: simulated server crash")
		s.crash.Store(true)
		s.requestQuit()
	case "show tasks":
		fmt.Fprint(c, s.showTasks())
	default:
		if reply, ok := s.consoleBackup(cmd); ok {
			fmt.Fprint(c, reply)
			return
		}
		if reply, ok := s.consoleCluster(typed); ok {
			fmt.Fprint(c, reply)
			return
		}
		fmt.Fprintf(c, "Unknown command: %s\n", cmd)
	}
}

func (s *server) showTasks() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Server name: %s\n", s.ini.get("ServerName"))
	fmt.Fprintf(&b, "%-20s %d\n", "Server", os.Getpid())
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tasks {
		fmt.Fprintf(&b, "%-20s %d\n", t.name, t.cmd.Process.Pid)
	}
	return b.String()
}

func hasFlag(args []string, flag string) bool {
	for _, a := range args {
		if a == flag {
			return true
		}
	}
	return false
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return h
}
