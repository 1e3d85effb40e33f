//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/scripts"
)

// sdns is a real systemd running as PID 1 of a private PID and mount
// namespace, with a private /run.
type sdns struct {
	t   *testing.T
	pid int // systemd's PID outside the namespace
	env []string
}

func bootSystemd(t *testing.T, units map[string]string) *sdns {
	t.Helper()
	simtest.Require(t, os.Geteuid() == 0, "a private PID and mount namespace needs root")
	for _, p := range []string{"/usr/bin/unshare", "/usr/bin/nsenter", "/lib/systemd/systemd"} {
		_, err := os.Stat(p)
		simtest.Require(t, err == nil, p+" is missing")
	}
	dir, err := os.MkdirTemp("", "quiesce-systemd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var boot strings.Builder
	boot.WriteString("#!/bin/sh\nset -e\nmount -t tmpfs tmpfs /run\nmkdir -p /run/systemd/system\n")
	// The namespace shares the host's files: nothing of a real boot may run
	// in it. sysinit.target would run systemd-tmpfiles --remove --boot and
	// empty the host's /tmp. Masked units in /run override /lib.
	for _, u := range []string{"sysinit.target", "basic.target", "local-fs.target", "tmp.mount",
		"systemd-tmpfiles-setup.service", "systemd-tmpfiles-setup-dev.service", "systemd-tmpfiles-clean.service",
		"systemd-tmpfiles-clean.timer", "systemd-journald.service", "systemd-udevd.service"} {
		fmt.Fprintf(&boot, "ln -sf /dev/null /run/systemd/system/%s\n", u)
	}
	units["qtest.target"] = "[Unit]\nDescription=quiesce test target\nDefaultDependencies=no\n"
	for name, body := range units {
		src := filepath.Join(dir, name)
		if err := os.WriteFile(src, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&boot, "cp %s /run/systemd/system/%s\n", src, name)
	}
	boot.WriteString("exec /lib/systemd/systemd --system --unit=qtest.target\n")
	script := filepath.Join(dir, "boot.sh")
	if err := os.WriteFile(script, []byte(boot.String()), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/unshare", "--pid", "--mount", "--fork", "--mount-proc", script)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &sdns{t: t}
	t.Cleanup(func() {
		if s.pid > 0 {
			_ = exec.Command("kill", "-9", fmt.Sprint(s.pid)).Run() // PID 1 of the namespace: everything in it dies
		}
		_ = cmd.Wait()
	})
	simtest.Eventually(t, 15*time.Second, "systemd up in the namespace", func() bool {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
		fmt.Sscan(string(b), &s.pid)
		if s.pid == 0 {
			return false
		}
		out, _ := s.run("systemctl", "is-system-running")
		return strings.TrimSpace(out) == "running" || strings.TrimSpace(out) == "degraded"
	})
	return s
}

// run runs a command inside the namespace.
func (s *sdns) run(args ...string) (string, error) {
	cmd := exec.Command("/usr/bin/nsenter", append([]string{"-t", fmt.Sprint(s.pid), "-p", "-m", "--"}, args...)...)
	cmd.Env = append(os.Environ(), s.env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (s *sdns) prop(unit, name string) string {
	out, _ := s.run("systemctl", "show", "-p", name, "--value", unit)
	return strings.TrimSpace(out)
}

// Domino runs under the shipped domino.service (through quiesce); a
// freeze and thaw go through systemctl: the unit goes inactive and active
// again, with no failure and no restart counted.
func TestSystemdUnitFreezeThaw(t *testing.T) {
	simtest.Slow(t)
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.3, StartSeconds: 0.2}, "")
	body, _ := os.ReadFile(g.cfg)
	if err := os.WriteFile(g.cfg, []byte(strings.Replace(string(body), "[freeze]", "manager = auto\nunit = domino.service\n\n[freeze]", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	quiesce := fmt.Sprintf("%s --config %s --log-file %s", g.bin, g.cfg, g.logFile)
	unit := strings.ReplaceAll(string(scripts.Read("systemd/domino.service")), "/usr/local/sbin/quiesce", quiesce)
	// Only in the namespace: no boot-time dependencies (see bootSystemd).
	unit = strings.Replace(unit, "[Unit]\n", "[Unit]\nDefaultDependencies=no\n", 1)
	unit = strings.Replace(unit, "After=network-online.target quiesce-recover.service\nWants=network-online.target\n", "", 1)
	sentinel, err := os.CreateTemp("", "quiesce-sentinel-")
	if err != nil {
		t.Fatal(err)
	}
	sentinel.Close()
	t.Cleanup(func() {
		if _, err := os.Stat(sentinel.Name()); err != nil {
			t.Errorf("the namespaced systemd touched the host's files: %v", err)
		}
		os.Remove(sentinel.Name())
	})
	s := bootSystemd(t, map[string]string{"domino.service": unit})
	if out, err := s.run("systemctl", "start", "domino.service"); err != nil {
		t.Fatalf("systemctl start: %v %s\n%s", err, out, g.log(t))
	}
	if st := s.prop("domino.service", "ActiveState"); st != "active" || !g.sim.Serving() {
		t.Fatalf("after systemctl start: %s, serving %v", st, g.sim.Serving())
	}
	out, err := s.run(g.bin, "--config", g.cfg, "--log-file", g.logFile, "vmware", "freeze")
	if err != nil {
		t.Fatalf("freeze: %v %s", err, out)
	}
	if st := s.prop("domino.service", "ActiveState"); st != "inactive" {
		t.Fatalf("unit after freeze: %s (a stop behind systemd's back would show failed)", st)
	}
	if rep := g.sim.Verify(g.sim.Snapshot()); !rep.Consistent() {
		t.Fatalf("snapshot: %+v", rep)
	}
	if !logHas(g.log(t), `"msg":"stopping through systemd"`, `"unit":"domino.service"`) {
		t.Fatalf("the freeze did not go through systemd:\n%s", g.log(t))
	}
	if out, err := s.run(g.bin, "--config", g.cfg, "--log-file", g.logFile, "vmware", "thaw"); err != nil {
		t.Fatalf("thaw: %v %s", err, out)
	}
	if st, res, restarts := s.prop("domino.service", "ActiveState"), s.prop("domino.service", "Result"), s.prop("domino.service", "NRestarts"); st != "active" || res != "success" || restarts != "0" {
		t.Fatalf("unit after thaw: %s result %s restarts %s", st, res, restarts)
	}
	if !g.sim.Serving() {
		t.Fatal("not serving after thaw")
	}
	if out, _ := s.run(g.bin, "--config", g.cfg, "--log-file", g.logFile, "status"); !strings.Contains(out, "(systemd unit domino.service)") {
		t.Fatalf("status: %s", out)
	}
}

// logHas reports whether one line of log contains every part.
func logHas(log string, parts ...string) bool {
	for _, line := range strings.Split(log, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// Domino was started by a backup hook, so it runs in the backup agent's
// cgroup (vmtoolsd.service, say). A freeze must never stop the agent's
// unit: it acts on Domino directly, even with domino.service loaded.
func TestSystemdAgentUnitIsNeverStopped(t *testing.T) {
	simtest.Slow(t)
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.3, StartSeconds: 0.2}, "")
	quiesce := fmt.Sprintf("%s --config %s --log-file %s", g.bin, g.cfg, g.logFile)
	domino := strings.ReplaceAll(string(scripts.Read("systemd/domino.service")), "/usr/local/sbin/quiesce", quiesce)
	domino = strings.Replace(domino, "[Unit]\n", "[Unit]\nDefaultDependencies=no\n", 1)
	domino = strings.Replace(domino, "After=network-online.target quiesce-recover.service\nWants=network-online.target\n", "", 1)
	// The agent starts Domino directly (an older setup, or a hand start), so
	// Domino's processes land in the agent's cgroup.
	direct := g.cfg + ".direct"
	body, _ := os.ReadFile(g.cfg)
	if err := os.WriteFile(direct, []byte(strings.Replace(string(body), "[freeze]", "manager = direct\n\n[freeze]", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	agent := fmt.Sprintf("[Unit]\nDefaultDependencies=no\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=%s --config %s --log-file %s start\n",
		g.bin, direct, g.logFile)
	s := bootSystemd(t, map[string]string{"domino.service": domino, "agent.service": agent})
	if out, err := s.run("systemctl", "start", "agent.service"); err != nil || !g.sim.Serving() {
		t.Fatalf("start through the agent unit: %v %s\n%s", err, out, g.log(t))
	}
	if out, err := s.run(g.bin, "--config", g.cfg, "--log-file", g.logFile, "vmware", "freeze"); err != nil {
		t.Fatalf("freeze: %v %s", err, out)
	}
	if st := s.prop("agent.service", "ActiveState"); st != "active" {
		t.Fatalf("the backup agent's unit was touched: %s", st)
	}
	if logHas(g.log(t), `"msg":"stopping through systemd"`) {
		t.Fatalf("the freeze went through a unit:\n%s", g.log(t))
	}
	if len(g.sim.Procs()) != 0 {
		t.Fatal("Domino still running after the freeze")
	}
	if out, err := s.run(g.bin, "--config", g.cfg, "--log-file", g.logFile, "vmware", "thaw"); err != nil || !g.sim.Serving() {
		t.Fatalf("thaw: %v %s", err, out)
	}
}
