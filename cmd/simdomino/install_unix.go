//go:build !windows

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
)

// layout is where an installation's parts are.
type layout struct{ root, lotus, data, sysconfig string }

func layoutOf(root string) layout {
	return layout{
		root:      root,
		lotus:     filepath.Join(root, "opt", "hcl", "domino"),
		data:      filepath.Join(root, "local", "notesdata"),
		sysconfig: filepath.Join(root, "etc", "sysconfig", "rc_domino_config"),
	}
}

func install(self string, o installOpts, stdout io.Writer) error {
	u, err := installUser(o.user)
	if err != nil {
		return err
	}
	if o.port == 0 {
		if o.port, err = freePort(); err != nil {
			return err
		}
	}
	root, err := filepath.Abs(o.root)
	if err != nil {
		return err
	}
	l := layoutOf(root)
	tasks := splitList(o.tasks)
	steps := []func() error{
		func() error { return makeRoot(root) },
		func() error { return installBinaries(self, l.lotus, tasks) },
		func() error { return installData(l.data, tasks, o) },
		func() error { return writeRcConfig(l, u.Username, o.shutdownTimeout) },
		func() error { return installBackup(l, o) },
		func() error { return chownTree(l.data, u) },
		func() error { return chownBackupDir(l, o, u) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "installed simulated Domino in %s\n  LOTUS=%s\n  DOMINO_DATA_PATH=%s\n  DOMINO_USER=%s\n  NRPC port %d\n  config %s\n",
		root, l.lotus, l.data, u.Username, o.port, l.sysconfig)
	if o.backup {
		fmt.Fprintf(stdout, "  Domino Backup snapshot mode: %s domino-backup ..., deltas in %s, backup mode ends after the %s command\n", o.quiesce, deltaDirOf(l, o), map[string]string{orderStart: "snapshot start", orderSnapshot: "backup snapshot"}[o.backupOrder])
	}
	return nil
}

// installUser resolves --user: the current user when not root; as root an
// existing unprivileged user, "notes" by default.
func installUser(name string) (*user.User, error) {
	if os.Geteuid() != 0 {
		cur, err := user.Current()
		if err != nil {
			return nil, err
		}
		if name != "" && name != cur.Username {
			return nil, fmt.Errorf("--user %s: only root can install for another user", name)
		}
		return cur, nil
	}
	if name == "" {
		name = "notes"
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("--user %s: %w (create it, or name an existing unprivileged user)", name, err)
	}
	if u.Uid == "0" {
		return nil, errors.New("--user: the Domino server refuses to run as root; name an unprivileged user")
	}
	return u, nil
}

func makeRoot(root string) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	// the server user must be able to reach the binaries and the data
	return os.Chmod(root, 0o755)
}

func installBinaries(self, lotus string, tasks []string) error {
	bin, linux := filepath.Join(lotus, "bin"), linuxDir(lotus)
	for _, d := range []string{bin, linux} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	targets := []string{filepath.Join(bin, "server"), filepath.Join(bin, "nsd"), filepath.Join(linux, "server"), filepath.Join(linux, backupTask)}
	for _, t := range tasks {
		targets = append(targets, filepath.Join(linux, t))
	}
	for _, t := range targets {
		if err := linkOrCopy(self, t); err != nil {
			return err
		}
	}
	return nil
}

func writeRcConfig(l layout, userName string, shutdownTimeout int) error {
	if err := os.MkdirAll(filepath.Dir(l.sysconfig), 0o755); err != nil {
		return err
	}
	cfg := fmt.Sprintf(`# rc_domino_config written by simdomino install (simulated server)
DOMINO_USER=%s
LOTUS=%s
DOMINO_DATA_PATH=%s
DOMINO_SHUTDOWN_TIMEOUT=%d
DOMINO_CONFIGURED="yes"
`, userName, l.lotus, l.data, shutdownTimeout)
	return os.WriteFile(l.sysconfig, []byte(cfg), 0o644)
}

func chownTree(dir string, u *user.User) error {
	if os.Geteuid() != 0 {
		return nil
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.Walk(dir, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, gid)
	})
}

// defaultService: no Windows service on Linux.
const defaultService = ""

func runUninstall(_ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "simdomino uninstall: nothing is registered on Linux; remove the --root directory")
	return 2
}

func deltaDirOf(l layout, o installOpts) string {
	if o.deltaDir != "" {
		return o.deltaDir
	}
	return filepath.Join(l.root, "local", "backup", "nsf")
}

// installBackup writes Domino Backup's snapshot configuration when asked.
func installBackup(l layout, o installOpts) error {
	if !o.backup {
		return nil
	}
	dir := deltaDirOf(l, o)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return writeBackupConfig(l.data, o.quiesce, dir, o.restoreOpts)
}

func chownBackupDir(l layout, o installOpts, u *user.User) error {
	if !o.backup {
		return nil
	}
	return chownTree(deltaDirOf(l, o), u)
}
