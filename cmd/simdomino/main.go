// Command simdomino is a simulated HCL Domino server for tests and the demo.
//
// One binary plays every part, chosen by the path it runs from, as the real
// server's files are laid out by "simdomino install". On Linux:
//
//	LOTUS/bin/server                 launcher; with -q or -c a console client
//	LOTUS/bin/nsd                    diagnostics and kill tool (nsd -kill)
//	LOTUS/notes/latest/linux/server  the main server process
//	LOTUS/notes/latest/linux/NAME    one server task (update, router, ...)
//	anything else                    simdomino install|verify|demo
//
// On Windows, in the program directory (as C:\Program Files\HCL\Domino):
//
//	nserver.exe    the server, run as a Windows service; with -q or -c a console client
//	nsd.exe        diagnostics and kill tool (nsd -kill)
//	nNAME.exe      one server task (nupdate.exe, nrouter.exe, ...)
//	anything else  simdomino install|uninstall|verify
package main

import (
	"fmt"
	"io"
	"os"
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
