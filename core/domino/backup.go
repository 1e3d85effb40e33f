package domino

import (
	"context"
	"time"

	"github.com/quiesce/quiesce/core/proc"
	"github.com/quiesce/quiesce/core/runas"
)

// BackupTaskName is the process name of Domino Backup's server task.
const BackupTaskName = "backup"

// Console sends one console command to the running server ("server -c
// CMD" as the Domino user, in the data directory), waiting at most limit.
func (s *Server) Console(ctx context.Context, limit time.Duration, cmd string) error {
	if err := s.canAct(); err != nil {
		return err
	}
	return s.runTool(ctx, limit, launcher(s.cfg.Lotus), "-c", cmd)
}

// BackupTasks returns the running Domino Backup task processes.
func (s *Server) BackupTasks() ([]proc.Proc, error) {
	procs, err := s.Processes()
	var out []proc.Proc
	for _, p := range procs {
		if p.Name == BackupTaskName {
			out = append(out, p)
		}
	}
	return out, err
}

// Probe reports, from one scan, whether the main server process runs and
// which backup tasks do.
func (s *Server) Probe() (main bool, tasks []proc.Proc, err error) {
	procs, err := s.Processes()
	for _, p := range procs {
		if p.Name == BackupTaskName {
			tasks = append(tasks, p)
		}
	}
	return hasMain(procs), tasks, err
}

// Account is the OS user the server runs as.
func (s *Server) Account() runas.Account { return s.acct }
