// Package timeline records and reads the simulated server's own timeline:
// when a shutdown was requested, when each task stopped, when the server
// was ready. Benchmarks subtract these times from quiesce's to measure the
// overhead quiesce adds.
package timeline

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// File is the timeline's path relative to the data directory.
const File = "IBM_TECHNICAL_SUPPORT/simdomino-timeline.log"

// Events written by the simulator.
const (
	StartRequested    = "start-requested"
	Ready             = "ready"
	StartFailed       = "start-failed"
	ShutdownRequested = "shutdown-requested"
	TaskStopped       = "task-stopped"
	AllClosed         = "all-closed"
	Exited            = "exited"
	Crashed           = "crashed" // the server ended as a panic does (fault injection)
	NsdKill           = "nsd-kill"
	Restricted        = "restricted" // Server_Restricted set (detail: its value)
	Replicate         = "replicate"  // a replication with a mate asked for (detail: its name)
)

// Event is one timeline line.
type Event struct {
	Time   time.Time
	PID    int
	Name   string
	Detail string
}

// Append writes one event to the timeline of dataDir. Lines are short and
// the file is opened for appending, so several processes can share it.
func Append(dataDir, name, detail string) error {
	path := filepath.Join(dataDir, File)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	line := fmt.Sprintf("%s %d %s %s\n", time.Now().UTC().Format(time.RFC3339Nano), os.Getpid(), name, detail)
	_, err = f.WriteString(line)
	return err
}

// Read parses the timeline of dataDir.
func Read(dataDir string) ([]Event, error) {
	f, err := os.Open(filepath.Join(dataDir, File))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if ev, ok := parse(sc.Text()); ok {
			out = append(out, ev)
		}
	}
	return out, sc.Err()
}

func parse(line string) (Event, bool) {
	parts := strings.SplitN(line, " ", 4)
	if len(parts) < 3 {
		return Event{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, parts[0])
	if err != nil {
		return Event{}, false
	}
	pid, _ := strconv.Atoi(parts[1])
	ev := Event{Time: t, PID: pid, Name: parts[2]}
	if len(parts) == 4 {
		ev.Detail = parts[3]
	}
	return ev, true
}

// Last returns the last event named name at or after since.
func Last(events []Event, name string, since time.Time) (Event, bool) {
	for i := len(events) - 1; i >= 0; i-- {
		ev := events[i]
		if ev.Time.Before(since) {
			break
		}
		if ev.Name == name {
			return ev, true
		}
	}
	return Event{}, false
}

// Span returns the time from the last "from" event to the last "to" event
// after it, both at or after since.
func Span(events []Event, from, to string, since time.Time) (time.Duration, bool) {
	a, ok := Last(events, from, since)
	if !ok {
		return 0, false
	}
	b, ok := Last(events, to, a.Time)
	if !ok {
		return 0, false
	}
	return b.Time.Sub(a.Time), true
}
