// Package qemu is the adapter for qemu-guest-agent (Proxmox VE, libvirt,
// OpenStack): qemu-ga runs its fsfreeze hook with freeze or thaw; a
// failing freeze fails guest-fsfreeze-freeze before any filesystem is
// frozen; thaw runs only after a successful thaw. qemu-ga sets no timeout;
// Proxmox gives up after 10 minutes.
package qemu

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/quiesce/quiesce/scripts"
	"github.com/quiesce/quiesce/vendors/hook"
)

// Name of the caller in state, logs and configuration.
const Name = "qemu"

// DefaultBudget: Proxmox VE's 10 minutes.
const DefaultBudget = 10 * time.Minute

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
	if len(req.Args) != 1 {
		fmt.Fprintln(req.Stderr, Usage)
		return ExitBadArgs
	}
	var op hook.Op
	switch req.Args[0] {
	case "freeze":
		op = hook.Freeze
	case "thaw":
		op = hook.Thaw
	default:
		fmt.Fprintf(req.Stderr, "quiesce qemu: unknown operation %q\n%s\n", req.Args[0], Usage)
		return ExitBadArgs
	}
	res, err := hook.Do(ctx, req, op, Name, "", DefaultBudget)
	if !hook.Report(req, "quiesce qemu "+req.Args[0]+": "+hook.Summary(op, res, err), err) {
		return ExitFailed
	}
	return ExitOK
}

// Invocation recognises the binary run directly as qemu-ga's hook.
func Invocation(argv0 string) bool {
	return filepath.Base(argv0) == "fsfreeze-hook" || filepath.Base(filepath.Dir(argv0)) == "fsfreeze-hook.d"
}

// Default locations.
const (
	DefaultHook   = "/etc/qemu/fsfreeze-hook"
	DefaultDropIn = "/etc/qemu/fsfreeze-hook.d"
	DropInName    = "50-quiesce"
)

// Target picks where to install: qemu-ga's hook itself when it is free or
// ours, else a file in the stock hook's fsfreeze-hook.d (whose failures the
// stock hook hides: it always exits 0).
func Target(hookPath, dropInDir string) string {
	if !exists(hookPath) || hook.Ours(hookPath) {
		return hookPath
	}
	return filepath.Join(dropInDir, DropInName)
}

// Install writes the hook at path, calling binary with opts.
func Install(path, binary string, opts ...hook.Options) (string, error) {
	return hook.InstallFile(path, hook.Render(scripts.Read("qemu/fsfreeze-hook"), binary, opts...))
}

// Uninstall removes the hook from whichever place holds it.
func Uninstall(hookPath, dropInDir string) (string, error) {
	if hook.Ours(hookPath) {
		return hook.RemoveFile(hookPath)
	}
	return hook.RemoveFile(filepath.Join(dropInDir, DropInName))
}
