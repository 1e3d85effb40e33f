package main

import (
	"fmt"
	"io"
)

// runLauncher: Windows has no launcher; the service starts nserver.exe.
func runLauncher(_ string, _ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "simdomino: no launcher on Windows")
	return 2
}
