// Package service starts and stops an application through whatever
// manages it: its own start and stop commands, systemd, or the Windows
// service control manager. Commands are argument lists, never a shell.
package service

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/quiesce/quiesce/core/runas"
)

// Manager starts and stops one application.
type Manager interface {
	// Start asks for the application to be started. exited, when not nil,
	// delivers an error if what was launched ends in failure before the
	// application is ready.
	Start(ctx context.Context) (exited <-chan error, err error)
	// Stop asks for the application to stop and returns when the request
	// has been handled (not necessarily when every process has exited).
	Stop(ctx context.Context) error
	String() string
}

// Commands is an application with its own start and stop commands, run as
// its user. A start command may return (a daemon) or stay (a foreground
// server, launched in a session of its own).
type Commands struct {
	Account   *runas.Account // nil: run as quiesce's own user
	StartArgs []string
	StopArgs  []string
}

func (c Commands) command(args []string) *exec.Cmd {
	if c.Account != nil {
		return runas.Command(*c.Account, "/", args[0], args[1:]...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = "/"
	return cmd
}

// Start implements Manager.
func (c Commands) Start(ctx context.Context) (<-chan error, error) {
	cmd := c.command(c.StartArgs)
	tail := &lastLines{}
	cmd.Stdout, cmd.Stderr = tail, tail
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start command %s: %w", c.StartArgs[0], err)
	}
	exited := make(chan error, 1)
	go func() {
		if err := cmd.Wait(); err != nil {
			exited <- fmt.Errorf("start command %s failed: %v%s", strings.Join(c.StartArgs, " "), err, tail.suffix())
		}
	}()
	return exited, nil
}

// Stop implements Manager.
func (c Commands) Stop(ctx context.Context) error {
	cmd := c.command(c.StopArgs)
	tail := &lastLines{}
	cmd.Stdout, cmd.Stderr = tail, tail
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("stop command %s: %w", c.StopArgs[0], err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("stop command %s failed: %v%s", strings.Join(c.StopArgs, " "), err, tail.suffix())
		}
		return nil
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("stop command %s did not return: %w", strings.Join(c.StopArgs, " "), ctx.Err())
	}
}

func (c Commands) String() string { return "commands" }

// Systemd manages a systemd unit with systemctl.
type Systemd struct {
	Unit      string
	Systemctl string // path of systemctl; "" for /usr/bin/systemctl or $PATH
}

// bin is the systemctl to run.
func (s Systemd) bin() string {
	if s.Systemctl != "" {
		return s.Systemctl
	}
	if _, err := os.Stat("/usr/bin/systemctl"); err == nil {
		return "/usr/bin/systemctl"
	}
	return "systemctl"
}

// Run runs "systemctl VERB UNIT" (start, stop, ...), which waits for the
// job it queues. The error carries systemctl's own last words.
func (s Systemd) Run(ctx context.Context, verb string) error {
	cmd := exec.CommandContext(ctx, s.bin(), verb, s.Unit)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("systemctl %s %s: %v: %s", verb, s.Unit, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Show returns the value of one of the unit's properties (systemctl show
// -p PROPERTY --value UNIT).
func (s Systemd) Show(ctx context.Context, property string) (string, error) {
	out, err := exec.CommandContext(ctx, s.bin(), "show", "-p", property, "--value", s.Unit).Output()
	if err != nil {
		return "", fmt.Errorf("systemctl show %s: %w", s.Unit, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Loaded reports whether systemd knows the unit (LoadState loaded).
func (s Systemd) Loaded(ctx context.Context) bool {
	st, err := s.Show(ctx, "LoadState")
	return err == nil && st == "loaded"
}

// Start implements Manager: systemctl start waits for the unit's start job.
func (s Systemd) Start(ctx context.Context) (<-chan error, error) {
	return nil, s.Run(ctx, "start")
}

// Stop implements Manager.
func (s Systemd) Stop(ctx context.Context) error { return s.Run(ctx, "stop") }

func (s Systemd) String() string { return "systemd unit " + s.Unit }

// lastLines keeps the end of a command's output for error messages.
type lastLines struct{ b []byte }

func (l *lastLines) Write(p []byte) (int, error) {
	l.b = append(l.b, p...)
	if len(l.b) > 2048 {
		l.b = l.b[len(l.b)-2048:]
	}
	return len(p), nil
}

func (l *lastLines) suffix() string {
	s := strings.TrimSpace(string(l.b))
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	return ": " + lines[len(lines)-1]
}
