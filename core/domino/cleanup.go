package domino

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"syscall"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/proc"
	"github.com/quiesce/quiesce/core/runas"
)

// leftoverFiles are what a killed server leaves in its data directory.
var leftoverFiles = []string{"~notes.lck", "pid.nbf", ".jsc_lock"}

// CleanupResult says what Cleanup removed.
type CleanupResult struct {
	Killed  []proc.Proc
	Files   []string
	IPC     []string // "shm 1234", "sem 5", "msg 7"
	Skipped string   // why nothing was cleaned, if so
}

// Cleanup removes what a killed server left behind, like the start
// script's "cleanup": task processes without their server are killed, and
// when no Domino process is left, the lock and PID files and the Domino
// user's System V IPC objects are removed. A running server is not
// touched.
func (s *Server) Cleanup(ctx context.Context) (CleanupResult, error) {
	st, err := s.Status()
	if err != nil {
		return CleanupResult{}, err
	}
	if st.State == Running {
		return CleanupResult{Skipped: "the server is running"}, nil
	}
	if err := s.canAct(); err != nil {
		return CleanupResult{}, err
	}
	var res CleanupResult
	if len(st.Procs) > 0 {
		for _, p := range st.Procs {
			_ = proc.Signal(p, syscall.SIGKILL)
		}
		if left := proc.Wait(ctx, st.Procs, s.clock.Now().Add(s.cfg.KillWait)); len(left) > 0 {
			return res, &StopError{Waited: s.cfg.KillWait, Left: left}
		}
		res.Killed = st.Procs
	}
	for _, name := range leftoverFiles {
		path := filepath.Join(s.cfg.Data, name)
		if err := runas.Remove(s.acct, path); err == nil {
			res.Files = append(res.Files, path)
		} else if !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("cannot remove leftover file", zap.String("file", path), zap.Error(err))
		}
	}
	res.IPC = removeIPC(s.acct.UID, s.log)
	s.log.Info("cleanup done", zap.Strings("killed", proc.Names(res.Killed)), zap.Strings("files", res.Files),
		zap.Strings("ipc", res.IPC))
	return res, nil
}
