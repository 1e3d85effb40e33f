package simtest

import (
	"os/exec"
	"path/filepath"
)

// layout sets where "simdomino install" puts the parts on Windows, and the
// service it registers: a name of its own, as tests share one service
// control manager.
func (s *Sim) layout() {
	s.Lotus = filepath.Join(s.Root, "Domino")
	s.Data = filepath.Join(s.Lotus, "Data")
	s.RcConfig = filepath.Join(s.Root, "quiesce.conf")
	s.Service = "HCL Domino Server (" + filepath.Base(s.Root) + ")"
}

// procDir is where the server's processes run from: the program directory.
func (s *Sim) procDir() string { return s.Lotus }

// uninstall stops and deletes the service.
func (s *Sim) uninstall() {
	if out, err := exec.Command(s.Bin, "uninstall", "--root", s.Root).CombinedOutput(); err != nil {
		s.t.Logf("simdomino uninstall: %v: %s", err, out)
	}
}

// serverExe is the server's program, which also sends console commands.
func (s *Sim) serverExe() string { return filepath.Join(s.Lotus, "nserver.exe") }
