// Command simdomino simulates HCL Domino on Linux; on Windows it only says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "simdomino simulates Domino on Linux; it does not run on Windows")
	os.Exit(1)
}
