// Package qemu is the adapter for qemu-guest-agent (Proxmox VE, libvirt,
// OpenStack): qemu-ga runs its fsfreeze hook with freeze or thaw; a
// failing freeze fails guest-fsfreeze-freeze before any filesystem is
// frozen; thaw runs only after a successful thaw. qemu-ga sets no timeout;
// Proxmox VE gives a thaw 3 minutes (10 s on older releases), so a thaw
// returns once Domino is launched and the watchdog proves it serves.
package qemu

import (
	"context"
	"path/filepath"
	"time"

	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/scripts"
	"github.com/quiesce/quiesce/vendors/hook"
)

// Name of the caller in state, logs and configuration.
const Name = "qemu"

// DefaultBudget for a freeze: Proxmox VE waits up to about an hour,
// libvirt and OpenStack set their own; 10 minutes keeps a freeze that no
// thaw follows short. DefaultThaw: Proxmox VE gives a thaw 3 minutes
// (10 s on older releases: set [budgets] qemu_thaw = 10s there).
const (
	DefaultBudget = 10 * time.Minute
	DefaultThaw   = 3 * time.Minute
)

// Defaults are the limits quiesce plans for with qemu-guest-agent.
var Defaults = hook.Limits{Budget: DefaultBudget, Limits: freeze.Limits{Thaw: DefaultThaw}}

// Exit codes.
const (
	ExitOK      = 0
	ExitFailed  = 1
	ExitBadArgs = 2
)

// Usage lists the operations.
const Usage = "usage: quiesce qemu freeze|thaw"

// Run handles one invocation and returns the exit code.
func Run(ctx context.Context, req hook.Request) int {
	return hook.RunWord(ctx, req, Name, Usage, Defaults, map[string]hook.Op{"freeze": hook.Freeze, "thaw": hook.Thaw},
		hook.Codes{OK: ExitOK, Failed: ExitFailed, BadArgs: ExitBadArgs})
}

// Invocation recognises the binary run directly as qemu-ga's hook.
func Invocation(argv0 string) bool {
	return filepath.Base(argv0) == "fsfreeze-hook" || filepath.Base(filepath.Dir(argv0)) == "fsfreeze-hook.d"
}

// Default locations (upstream, Debian, Ubuntu).
const (
	DefaultHook   = "/etc/qemu/fsfreeze-hook"
	DefaultDropIn = "/etc/qemu/fsfreeze-hook.d"
	DropInName    = "50-quiesce"
)

// Install writes the hook at path, calling binary with opts.
func Install(path, binary string, opts ...hook.Options) (string, error) {
	return hook.InstallFile(path, hook.Render(scripts.Read("qemu/fsfreeze-hook"), binary, opts...))
}
