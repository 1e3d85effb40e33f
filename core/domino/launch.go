package domino

import (
	"os"
	"os/exec"
	"path/filepath"

	"github.com/quiesce/quiesce/core/runas"
)

// command prepares a Domino tool to run as the Domino user in the data
// directory.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	return runas.Command(s.acct, s.cfg.Data, name, args...)
}

// outputTo sends cmd's output to the server's output log, as rc_domino
// does, creating the log owned by the Domino user.
func (s *Server) outputTo(cmd *exec.Cmd) (*os.File, error) {
	f, err := openOwned(s.cfg.OutputLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, s.acct)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = f, f
	return f, nil
}

// openOwned opens path, and when quiesce created it as root, hands it to
// the account so the application can keep using it.
func openOwned(path string, flag int, a runas.Account) (*os.File, error) {
	_, statErr := os.Stat(path)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, flag, 0o644)
	if err != nil {
		return nil, err
	}
	if os.IsNotExist(statErr) && os.Geteuid() == 0 {
		_ = f.Chown(a.UID, a.GID)
	}
	return f, nil
}
