// Command quiesce makes hypervisor snapshots application-consistent: it
// stops and starts an application (HCL Domino first of all) around a
// snapshot and proves it is serving again.
package main

import "os"

func main() {
	if stdoutOnly(adapters(), os.Args) {
		stderrToStdout() // even a runtime crash must not reach stderr
	}
	self, _ := os.Executable()
	os.Exit(run(os.Args, stdio{out: os.Stdout, err: os.Stderr, self: self}))
}
