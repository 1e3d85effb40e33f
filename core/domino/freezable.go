package domino

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/freeze/stopstart"
	"github.com/quiesce/quiesce/core/manifest"
	"github.com/quiesce/quiesce/core/proc"
	"github.com/quiesce/quiesce/core/ready"
	"github.com/quiesce/quiesce/core/service"
)

// TargetName is the kind of a Domino instance, and the name version 1
// kept its record under.
const TargetName = "domino"

// legacyOnline is the name version 1 kept an online freeze's record under.
const legacyOnline = "domino-online"

// Instance is the Domino server as an application instance: what makes
// it that server is its data directory (the canonical path, without
// links; on Windows in any case), so that two configurations for one
// server reach one freeze, and two partitions never share one.
func (s *Server) Instance() freeze.Instance {
	return freeze.Instance{Kind: TargetName, Ident: CanonicalData(s.cfg.Data), Name: TargetName + " " + s.cfg.Data,
		Legacy: []string{TargetName, legacyOnline}}
}

// CanonicalData is the data directory as one path: absolute, cleaned,
// links resolved, and on Windows in lower case.
func CanonicalData(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	dir = filepath.Clean(dir)
	if runtime.GOOS == "windows" {
		dir = strings.ToLower(dir)
	}
	return dir
}

// Freezable is a Domino server as a stop/start target.
type Freezable struct{ S *Server }

var (
	_ stopstart.Target    = Freezable{}
	_ stopstart.DataNamer = Freezable{}
	_ stopstart.Crasher   = Freezable{}
	_ stopstart.Located   = Freezable{}
)

// DataNoun implements stopstart.DataNamer: what a killed Domino leaves
// open.
func (f Freezable) DataNoun() string { return "databases" }

// Running implements stopstart.Target. No process found while the
// server's systemd unit is active is an error (service.UnseenError),
// never "not running".
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

// Crashed implements stopstart.Crasher: a Domino server that is not
// running but left ~notes.lck or pid.nbf behind did not shut down
// cleanly (a clean shutdown removes both): its databases are not closed.
func (f Freezable) Crashed() []string {
	var left []string
	for _, name := range []string{"~notes.lck", "pid.nbf"} {
		path := filepath.Join(f.S.cfg.Data, name)
		if _, err := os.Lstat(path); err == nil {
			left = append(left, path)
		}
	}
	return left
}

// Stop implements stopstart.Target.
func (f Freezable) Stop(ctx context.Context, graceful time.Duration) (stopstart.StopReport, error) {
	res, err := f.S.StopWithin(ctx, graceful)
	rep := stopstart.StopReport{Outcome: res.Outcome.String(), Forced: res.Outcome.Forced(),
		Killed: proc.Names(res.Killed), Took: res.Total}
	for _, p := range res.Phases {
		rep.Ran = append(rep.Ran, freeze.Ran{Name: p.Name, Took: p.Duration})
	}
	return rep, err
}

// Start implements stopstart.Target.
func (f Freezable) Start(ctx context.Context) (stopstart.StartReport, error) {
	res, err := f.S.Start(ctx)
	switch {
	case errors.Is(err, ErrAlreadyRunning):
		err = fmt.Errorf("%w: %w", stopstart.ErrAlreadyRunning, err)
	case errors.Is(err, ErrDisabled):
		err = fmt.Errorf("%w: %w", stopstart.ErrStartBlocked, err)
	}
	return stopstart.StartReport{Ready: res.Ready}, err
}

// Timeouts implements stopstart.Target: the stop's steps and the start
// timeout.
func (f Freezable) Timeouts() freeze.Timeouts {
	return freeze.Timeouts{Steps: f.S.Steps(), Start: f.S.cfg.StartTimeout}
}

// WaitReady implements stopstart.Waiter: the NRPC port must accept within
// the start timeout (the console line may have come already).
func (f Freezable) WaitReady(ctx context.Context) error {
	return ready.Wait(ctx, []ready.Probe{ready.TCP{Addr: f.S.nrpcAddr()}}, f.S.clock.Now().Add(f.S.cfg.StartTimeout), nil)
}

// DatabaseExtensions are the file endings of Domino's databases and
// templates, the files a snapshot manifest lists.
var DatabaseExtensions = []string{".nsf", ".ntf", ".box"}

// IsDatabase reports whether name is a Domino database's file name.
func IsDatabase(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	for _, e := range DatabaseExtensions {
		if ext == e {
			return true
		}
	}
	return false
}

// Location is where the snapshot manifest of this server goes: its data
// directory, written as the Domino user, listing its databases.
func (s *Server) Location() manifest.Location {
	return manifest.Location{Dir: s.cfg.Data, Account: s.acct, Data: IsDatabase}
}

// Location implements stopstart.Located.
func (f Freezable) Location() manifest.Location { return f.S.Location() }
