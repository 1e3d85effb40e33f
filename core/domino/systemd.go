package domino

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/proc"
	"github.com/quiesce/quiesce/core/service"
)

// unit returns the systemd unit that manages the server, or "" when
// quiesce acts on the server directly: the configured manager, else (auto)
// the configured unit when the server's processes run in its cgroup, or,
// when the server is down, when systemd has that unit loaded. Only the
// configured unit is ever used: a server started by a backup hook lives
// in the hook's caller's cgroup (vmtoolsd.service, qemu-guest-agent
// .service), and stopping that unit would stop the backup agent. Inside
// the unit (its ExecStart or ExecStop) quiesce always acts directly.
func (s *Server) unit(procs []proc.Proc) string {
	if s.svc != nil || s.cfg.Manager == config.ManagerDirect || s.InUnit() {
		return ""
	}
	if s.cfg.Manager == config.ManagerSystemd {
		return s.cfg.Unit
	}
	if !systemdRunning() {
		return ""
	}
	for _, p := range procs {
		if unitOf(int(p.PID)) == s.cfg.Unit {
			return s.cfg.Unit
		}
	}
	if len(procs) == 0 && unitLoaded(s.cfg.Unit) {
		return s.cfg.Unit
	}
	return ""
}

// InUnit reports whether quiesce runs as a process of the Domino unit.
func (s *Server) InUnit() bool {
	u := unitOf(os.Getpid())
	return u != "" && u == s.cfg.Unit
}

// systemdRunning reports whether systemd manages this system.
func systemdRunning() bool {
	_, err := os.Stat("/run/systemd/system")
	return err == nil
}

// unitOf returns the .service unit whose cgroup holds pid, "" for none (or
// a user session).
func unitOf(pid int) string {
	f, err := os.Open(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 || (parts[1] != "" && parts[1] != "name=systemd") {
			continue
		}
		segs := strings.Split(parts[2], "/")
		for i := len(segs) - 1; i >= 0; i-- {
			if strings.HasSuffix(segs[i], ".service") && !strings.HasPrefix(segs[i], "user@") {
				return segs[i]
			}
		}
	}
	return ""
}

// unitLoaded reports whether systemd knows the unit.
func unitLoaded(unit string) bool {
	return service.Systemd{Unit: unit}.Loaded(context.Background())
}

// unitCommand runs systemctl VERB UNIT in the background and delivers its
// error, if any, on the returned channel (closed when it returns).
func (s *Server) unitCommand(ctx context.Context, verb, unit string) <-chan error {
	done := make(chan error, 1)
	go func() {
		defer close(done)
		if err := (service.Systemd{Unit: unit}).Run(ctx, verb); err != nil {
			s.log.Warn("systemctl failed", zap.Error(err))
			done <- err
		}
	}()
	return done
}
