//go:build !windows

package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// runLauncher is LOTUS/bin/server: it starts the server binary under
// LOTUS/notes/latest/linux in place of itself, or acts as a console client.
func runLauncher(exe string, args []string, stdout, stderr io.Writer) int {
	if hasFlag(args, "-q") || hasFlag(args, "-c") {
		return runClient(args, stdout, stderr)
	}
	target := filepath.Join(linuxDir(lotusOf(exe)), "server")
	if data, err := dataDirFromArgs(args); err == nil {
		if n, err := readIni(data); err == nil {
			time.Sleep(n.seconds("SimLaunchDelay", 0)) // a slow launcher script
		}
	}
	err := syscall.Exec(target, append([]string{target}, args...), os.Environ())
	fmt.Fprintf(stderr, "server: cannot start %s: %v\n", target, err)
	return 1
}
