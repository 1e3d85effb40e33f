package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// consoleLog is the console log file relative to the data directory.
const consoleLog = "IBM_TECHNICAL_SUPPORT/console.log"

// Console lines the readiness probe looks for.
const (
	readyLine  = "Server started on physical node"
	dbSrvrLine = "Database Server started"
)

// console writes console lines as the real server does: to its standard
// output (the start script's output log) and to console.log.
type console struct {
	mu  sync.Mutex
	out io.Writer
	log string
}

func newConsole(dataDir string, out io.Writer) *console {
	path := filepath.Join(dataDir, consoleLog)
	_ = os.MkdirAll(filepath.Dir(path), 0o755)
	return &console{out: out, log: path}
}

func (c *console) printf(format string, a ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	line := fmt.Sprintf("[%06d:000002-%s] %s  %s\n", os.Getpid(), "00007F", now.Format("01/02/2006 03:04:05 PM"), fmt.Sprintf(format, a...))
	fmt.Fprint(c.out, line)
	f, err := os.OpenFile(c.log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = f.WriteString(line)
}
