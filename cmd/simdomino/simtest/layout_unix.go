//go:build !windows

package simtest

import "path/filepath"

// layout sets where "simdomino install" puts the parts on Linux.
func (s *Sim) layout() {
	s.Lotus = filepath.Join(s.Root, "opt/hcl/domino")
	s.Data = filepath.Join(s.Root, "local/notesdata")
	s.RcConfig = filepath.Join(s.Root, "etc/sysconfig/rc_domino_config")
}

// procDir is where the server's processes run from.
func (s *Sim) procDir() string { return filepath.Join(s.Lotus, "notes") }

// uninstall: nothing is registered on Linux.
func (s *Sim) uninstall() {}

// serverExe is the server's program, which also sends console commands.
func (s *Sim) serverExe() string { return filepath.Join(s.Lotus, "bin", "server") }
