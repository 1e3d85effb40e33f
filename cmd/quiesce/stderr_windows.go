package main

// stderrToStdout: Veeam reads stderr as failure only on Linux.
func stderrToStdout() {}
