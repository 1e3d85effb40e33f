package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"go.uber.org/zap"
)

// noSupervisorEnv, set, keeps the watchdog out of systemd: the test suite
// sets it (simtest.Main), so that tests run as root on a machine systemd
// runs start no services of the host's.
const noSupervisorEnv = "QUIESCE_TEST_NO_SUPERVISOR"

// errNoSupervisor: no systemd to supervise the watchdog (not PID 1, not
// root, or systemd-run missing).
var errNoSupervisor = errors.New("no supervisor")

// clockEnv is passed on to a supervised watchdog (systemd starts it with
// its own environment, not quiesce's): the test clock (see newClock).
var clockEnv = []string{clockOffsetEnv}

// spawnSupervised starts the watchdog as a transient systemd service,
// quiesce-watchdog-INSTANCE: restarted a second after it dies of anything
// but its own success, spared by the OOM killer, and stopped alone
// (KillMode=process: what it started, Domino among them, is never killed
// with it).
func (e *env) spawnSupervised(instance, dir string, args []string) (string, error) {
	run, err := exec.LookPath("systemd-run")
	if os.Geteuid() != 0 || err != nil || os.Getenv(noSupervisorEnv) != "" {
		return "", errNoSupervisor
	}
	if st, err := os.Stat("/run/systemd/system"); err != nil || !st.IsDir() {
		return "", errNoSupervisor // systemd does not run this machine
	}
	unit := "quiesce-watchdog-" + instance
	argv := []string{"--unit=" + unit, "--collect", "--quiet", "--no-block", "--working-directory=" + dir,
		"--property=Restart=on-failure", "--property=RestartSec=1", "--property=KillMode=process",
		"--property=OOMScoreAdjust=-1000", "--property=StartLimitIntervalSec=0", "--property=DefaultDependencies=no",
		"--description=quiesce watchdog of " + instance}
	for _, k := range clockEnv {
		if v, ok := os.LookupEnv(k); ok {
			argv = append(argv, "--setenv="+k+"="+v)
		}
	}
	argv = append(append(argv, "--", e.io.self), args...)
	out, err := exec.Command(run, argv...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("systemd-run: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return unit + ".service", nil
}

// spareFromOOM asks the kernel never to pick this process (the watchdog)
// when memory runs out: it is what brings the application back.
func spareFromOOM(log *zap.Logger) {
	if os.Geteuid() != 0 {
		return
	}
	if err := os.WriteFile("/proc/self/oom_score_adj", []byte("-1000\n"), 0); err != nil {
		log.Warn("cannot protect the watchdog from the OOM killer", zap.Error(err))
	}
}
