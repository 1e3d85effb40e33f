package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/windows"
)

// controlFile in the data directory holds the loopback port the console
// commands use (Windows has no abstract unix sockets).
const controlFile = "~simdomino.ctl"

func listenControl(dataDir string) (net.Listener, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := os.WriteFile(filepath.Join(dataDir, controlFile), []byte(strconv.Itoa(port)+"\n"), 0o644); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

func dialControl(dataDir string) (net.Conn, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, controlFile))
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", controlFile, err)
	}
	return net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 5*time.Second)
}

// lockOffset is where the lock byte lies: beyond the PID written at the
// start of the file, which stays readable for the message of a second
// server.
const lockOffset = 1 << 20

// lockExclusive takes the data directory's lock without waiting.
func lockExclusive(f *os.File) error {
	ol := new(windows.Overlapped)
	ol.Offset = lockOffset
	return windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
}

// unlockRemove releases the lock, then removes the file (Windows removes
// no open file).
func unlockRemove(f *os.File) {
	name := f.Name()
	f.Close()
	_ = os.Remove(name)
}
