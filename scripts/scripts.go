// Package scripts holds the files quiesce installs on a guest (hook shims,
// Veeam scripts, systemd units), embedded so that "quiesce install" writes
// exactly what is in this directory.
package scripts

import "embed"

// FS holds every script below this directory.
//
//go:embed vmware veeam qemu systemd windows nutanix gcp azure
var FS embed.FS

// Read returns one embedded file; the names are fixed at build time, so a
// missing one is a programming error.
func Read(name string) []byte {
	b, err := FS.ReadFile(name)
	if err != nil {
		panic("scripts: " + err.Error())
	}
	return b
}
