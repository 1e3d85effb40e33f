package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/nsf"
)

// runTask is one server task: it keeps its database open and written to
// until the server tells it to quit on standard input.
func runTask(exe string, stdout, stderr io.Writer) int {
	name := taskName(exe)
	data := os.Getenv("SIMDOMINO_DATA")
	if data == "" {
		fmt.Fprintf(stderr, "%s: server tasks are loaded by the server\n", name)
		return 1
	}
	n, err := readIni(data)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGPIPE)
	if name == backupTask {
		return runBackup(data, n, stdout)
	}
	applyTermFault(n, name)
	db, err := nsf.Open(filepath.Join(data, dbOf(name)))
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	stop := make(chan struct{})
	go keepWriting(db, name, stop)
	step, ok := waitQuit(os.Stdin)
	if fresh, err := readIni(data); err == nil {
		n = fresh // faults staged while the server ran apply to this shutdown
		applyTermFault(n, name)
	}
	if !ok || n.names("SimHangTask", name) {
		// The server is gone, or this task hangs on shutdown: keep the
		// database open and stay until killed, as a stuck Domino task does.
		select {}
	}
	time.Sleep(step) // closing work
	close(stop)
	if err := db.Close(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}

// waitQuit reads the server's instructions; ok is false when the server
// went away without asking the task to quit.
func waitQuit(r io.Reader) (step time.Duration, ok bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 && f[0] == "quit" {
			if len(f) > 1 {
				ms, _ := strconv.Atoi(f[1])
				step = time.Duration(ms) * time.Millisecond
			}
			return step, true
		}
	}
	return 0, false
}

// applyTermFault makes the task ignore SIGTERM when notes.ini says so.
func applyTermFault(n ini, name string) {
	if n.names("SimIgnoreTerm", name) {
		signal.Ignore(syscall.SIGTERM)
	}
}
