//go:build !windows

// Command simdomino is a simulated HCL Domino server for tests and the demo.
//
// One binary plays every part, chosen by the path it runs from, as the real
// server's files are laid out by "simdomino install":
//
//	LOTUS/bin/server                 launcher; with -q or -c a console client
//	LOTUS/bin/nsd                    diagnostics and kill tool (nsd -kill)
//	LOTUS/notes/latest/linux/server  the main server process
//	LOTUS/notes/latest/linux/NAME    one server task (update, router, ...)
//	anything else                    simdomino install|verify|demo
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// role is what this invocation plays, decided by the executable's path.
type role int

const (
	roleTool role = iota
	roleLauncher
	roleNsd
	roleServer
	roleTask
)

func roleOf(exe string) role {
	name, dir := filepath.Base(exe), filepath.Base(filepath.Dir(exe))
	switch {
	case dir == "bin" && name == "server":
		return roleLauncher
	case dir == "bin" && name == "nsd":
		return roleNsd
	case dir == "linux" && name == "server":
		return roleServer
	case dir == "linux":
		return roleTask
	}
	return roleTool
}

func run(args []string, stdout, stderr io.Writer) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "simdomino:", err)
		return 1
	}
	switch roleOf(exe) {
	case roleLauncher:
		return runLauncher(exe, args[1:], stdout, stderr)
	case roleNsd:
		return runNsd(exe, args[1:], stdout, stderr)
	case roleServer:
		return runServer(exe, args[1:], stdout, stderr)
	case roleTask:
		return runTask(exe, stdout, stderr)
	}
	return runTool(exe, args, stdout, stderr)
}
