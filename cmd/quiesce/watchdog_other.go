//go:build !linux

package main

import (
	"errors"

	"go.uber.org/zap"
)

// errNoSupervisor: no supervisor for the watchdog on this platform; any
// quiesce run (a freeze, a thaw, status) starts a missing one again.
var errNoSupervisor = errors.New("no supervisor")

func (e *env) spawnSupervised(string, string, []string) (string, error) { return "", errNoSupervisor }

func spareFromOOM(*zap.Logger) {}
