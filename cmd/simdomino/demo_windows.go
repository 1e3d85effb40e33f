package main

import (
	"fmt"
	"io"
)

func runDemo(_ string, _ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "simdomino demo runs on Linux; on Windows see docs/windows.md")
	return 2
}
