// Package ready proves that an application serves: a TCP port accepts, an
// HTTP URL answers 2xx, a log file gains a line, or a command exits 0.
// Probes are checked together until all pass or time runs out: at once
// when a watched log file is written (inotify on Linux), else polling.
package ready

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Probe is one readiness check.
type Probe interface {
	// Ready reports whether the check passes now.
	Ready(ctx context.Context) bool
	// String names the check for messages.
	String() string
}

// Poll is how often probes are checked when nothing they watch changes.
const Poll = 20 * time.Millisecond

// ErrNotReady: the probes did not all pass in time.
var ErrNotReady = errors.New("not ready")

// NotReadyError lists the probes that did not pass.
type NotReadyError struct {
	Waited  time.Duration
	Failing []string
}

func (e *NotReadyError) Error() string {
	return fmt.Sprintf("not ready after %s: %s", e.Waited.Round(time.Millisecond), strings.Join(e.Failing, ", "))
}
func (e *NotReadyError) Unwrap() error { return ErrNotReady }

// watched is a probe that passes only after a file in Dir is written: Wait
// re-checks the probes as soon as that happens, not at the next poll.
type watched interface {
	Dir() string
}

// Wait checks probes until all pass (a passed probe is not checked again),
// the deadline passes, ctx ends, or exited delivers (the application's
// process ended: there is no point waiting). Probes are checked when a
// file a probe watches is written, and every Poll; the others (a port, a
// URL, a command) only once the watched ones have passed, so that a
// starting application is not dialled on every line it logs.
func Wait(ctx context.Context, probes []Probe, deadline time.Time, exited <-chan error) error {
	began := time.Now()
	passed := make([]bool, len(probes))
	var dirs []string
	for _, p := range probes {
		if w, ok := p.(watched); ok {
			dirs = append(dirs, w.Dir())
		}
	}
	w := newWatch(dirs)
	defer w.close()
	tick := time.NewTicker(Poll)
	defer tick.Stop()
	for {
		if check(ctx, probes, passed, true) && check(ctx, probes, passed, false) {
			return nil
		}
		if !time.Now().Before(deadline) {
			check(ctx, probes, passed, false) // say which of them fail too
			var failing []string
			for i, p := range probes {
				if !passed[i] {
					failing = append(failing, p.String())
				}
			}
			return &NotReadyError{Waited: time.Since(began), Failing: failing}
		}
		select {
		case err := <-exited:
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-w.changes():
		case <-tick.C:
		}
	}
}

// check checks the probes not passed yet that are (or are not) watched,
// and reports whether all of those have passed.
func check(ctx context.Context, probes []Probe, passed []bool, watchedOnes bool) bool {
	all := true
	for i, p := range probes {
		if _, ok := p.(watched); ok != watchedOnes {
			continue
		}
		if !passed[i] {
			passed[i] = p.Ready(ctx)
		}
		all = all && passed[i]
	}
	return all
}

// TCP passes when Addr accepts a connection.
type TCP struct{ Addr string }

func (p TCP) Ready(context.Context) bool {
	c, err := net.DialTimeout("tcp", p.Addr, 250*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
func (p TCP) String() string { return "TCP " + p.Addr + " accepting" }

// HTTP passes when URL answers with a 2xx status.
type HTTP struct{ URL string }

func (p HTTP) Ready(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 300
}
func (p HTTP) String() string { return "HTTP " + p.URL + " answering 2xx" }

// Command passes when its command exits 0; Make builds it fresh each time
// (to run it as the application's user, never through a shell).
type Command struct {
	Args []string
	Make func(ctx context.Context, args []string) *exec.Cmd
}

func (p Command) Ready(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := p.Make(ctx, p.Args)
	return cmd.Run() == nil
}
func (p Command) String() string { return "command " + strings.Join(p.Args, " ") + " exiting 0" }

// LogLine passes when Text appears in a line appended to File after the
// probe was made (the file may not exist yet, may be rotated).
type LogLine struct {
	File string
	Text string
	// Open opens File for reading; nil: os.Open. A log in a directory
	// another user controls is opened as that user (runas.OpenFile).
	Open   func(path string) (*os.File, error)
	offset int64
	buf    string
	found  bool
}

// maxLogRead bounds what one look at a log line probe reads.
const maxLogRead = 1 << 20

// NewLogLine watches what is appended to file from now on; open opens it
// (nil: os.Open).
func NewLogLine(file, text string, open func(string) (*os.File, error)) *LogLine {
	p := &LogLine{File: file, Text: text, Open: open}
	if f, err := p.open(); err == nil {
		if st, err := f.Stat(); err == nil {
			p.offset = st.Size()
		}
		f.Close()
	}
	return p
}

func (p *LogLine) open() (*os.File, error) {
	if p.Open == nil {
		return os.Open(p.File)
	}
	return p.Open(p.File)
}

func (p *LogLine) Ready(context.Context) bool {
	if p.found {
		return true
	}
	f, err := p.open()
	if err != nil {
		return false
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() < p.offset {
		p.offset = 0 // rotated or truncated
	}
	if _, err := f.Seek(p.offset, io.SeekStart); err != nil {
		return false
	}
	b, _ := io.ReadAll(io.LimitReader(f, maxLogRead))
	p.offset += int64(len(b))
	p.buf += string(b)
	if i := strings.LastIndexByte(p.buf, '\n'); i >= 0 {
		p.found = strings.Contains(p.buf[:i], p.Text)
		p.buf = p.buf[i+1:]
	}
	if len(p.buf) > maxLogRead { // a line without end: keep what may still hold Text
		p.buf = p.buf[len(p.buf)-len(p.Text):]
	}
	return p.found
}
func (p *LogLine) String() string { return fmt.Sprintf("%q in %s", p.Text, p.File) }

// Dir is the directory of File, where it is written, created or rotated.
func (p *LogLine) Dir() string { return filepath.Dir(p.File) }
