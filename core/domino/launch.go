package domino

import (
	"os"
	"os/exec"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/runas"
)

// command prepares a Domino tool to run as the Domino user in the data
// directory.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	return runas.Command(s.acct, s.cfg.Data, name, args...)
}

// outputTo sends cmd's output to the server's output log, as rc_domino
// does. The log is opened, and created, as the Domino user: it lives in a
// directory that user controls, so a link planted there reaches nothing
// that user could not write already. A log that cannot be opened does not
// keep the tool from running (a stop or a start matters more than its
// output): the output is discarded and quiesce's log says why. The
// returned file, nil then, is the caller's to close.
func (s *Server) outputTo(cmd *exec.Cmd) *os.File {
	f, err := s.openOutput()
	if err != nil {
		s.log.Warn("cannot open the server's output log as the Domino user; this tool's output is discarded",
			zap.String("file", s.cfg.OutputLog), zap.String("user", s.acct.Name), zap.Error(err))
		return nil
	}
	cmd.Stdout, cmd.Stderr = f, f
	return f
}

// openOutput opens the output log for appending as the Domino user.
func (s *Server) openOutput() (*os.File, error) {
	return runas.OpenAppend(s.acct, s.cfg.OutputLog, 0o644)
}

// openInput opens the server's standard input as the Domino user, without
// blocking on a FIFO; nil (standard input from /dev/null) when there is
// none or it cannot be opened.
func (s *Server) openInput() *os.File {
	f, err := runas.OpenInput(s.acct, s.cfg.InputFile)
	if err != nil {
		if !os.IsNotExist(err) {
			s.log.Warn("cannot open the server's input file as the Domino user; input from /dev/null", zap.String("file", s.cfg.InputFile), zap.Error(err))
		}
		return nil
	}
	return f
}

// openUserFile opens a file for reading as the Domino user (see
// readUserFile).
func (s *Server) openUserFile(path string) (*os.File, error) {
	return runas.OpenFile(s.acct, path, os.O_RDONLY, 0)
}
