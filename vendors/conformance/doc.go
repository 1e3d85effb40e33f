// Package conformance is the suite every caller adapter passes: a harness
// per caller plays that backup product exactly as docs/callers.md describes it
// (the real qemu-ga for qemu-guest-agent), against the simulated Domino
// server, and every scenario checks the snapshot itself, not just exit
// codes. The suite lives in this package's tests.
package conformance
