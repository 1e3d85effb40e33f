package domino

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/proc"
	"github.com/quiesce/quiesce/core/ready"
	"github.com/quiesce/quiesce/core/service"
)

// TargetName is the name of a Domino target in state files and logs.
const TargetName = "domino"

// Freezable is a Domino server as a freeze target.
type Freezable struct{ S *Server }

var (
	_ freeze.Target    = Freezable{}
	_ freeze.DataNamer = Freezable{}
)

// Name implements freeze.Target.
func (f Freezable) Name() string { return TargetName }

// DataNoun implements freeze.DataNamer: what a killed Domino leaves open.
func (f Freezable) DataNoun() string { return "databases" }

// Running implements freeze.Target. No process found while the server's
// systemd unit is active is an error (service.UnseenError), never "not
// running".
func (f Freezable) Running() (bool, error) {
	procs, err := f.S.Processes()
	if err != nil || len(procs) > 0 {
		return len(procs) > 0, err
	}
	if unit := f.S.unit(nil); unit != "" {
		return false, service.CheckUnseen(context.Background(), service.Systemd{Unit: unit})
	}
	return false, nil
}

// Stop implements freeze.Target.
func (f Freezable) Stop(ctx context.Context, graceful time.Duration) (freeze.StopReport, error) {
	res, err := f.S.StopWithin(ctx, graceful)
	rep := freeze.StopReport{Outcome: res.Outcome.String(), Forced: res.Outcome.Forced(),
		Killed: proc.Names(res.Killed), Took: res.Total}
	return rep, err
}

// Start implements freeze.Target.
func (f Freezable) Start(ctx context.Context) (freeze.StartReport, error) {
	res, err := f.S.Start(ctx)
	switch {
	case errors.Is(err, ErrAlreadyRunning):
		err = fmt.Errorf("%w: %w", freeze.ErrAlreadyRunning, err)
	case errors.Is(err, ErrDisabled):
		err = fmt.Errorf("%w: %w", freeze.ErrStartBlocked, err)
	}
	return freeze.StartReport{Ready: res.Ready}, err
}

// Timeouts implements freeze.Target.
func (f Freezable) Timeouts() freeze.Timeouts {
	c := f.S.cfg
	return freeze.Timeouts{Shutdown: c.ShutdownTimeout, PreShutdown: c.PreShutdownDelay, KillWait: c.KillWait, Start: c.StartTimeout}
}

// WaitReady implements freeze.Waiter: the NRPC port must accept within
// the start timeout (the console line may have come already).
func (f Freezable) WaitReady(ctx context.Context) error {
	return ready.Wait(ctx, []ready.Probe{ready.TCP{Addr: f.S.nrpcAddr()}}, f.S.clock.Now().Add(f.S.cfg.StartTimeout), nil)
}
