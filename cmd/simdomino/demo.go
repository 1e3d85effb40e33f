package main

import (
	"fmt"
	"io"
)

func runDemo(self string, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "simdomino demo: not built yet")
	return 1
}
