//go:build !windows

package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/quiesce/quiesce/cmd/simdomino/nsf"
	"github.com/quiesce/quiesce/cmd/simdomino/snapshot"
)

// DefaultTasks are the server tasks installed when --tasks is not given.
const DefaultTasks = "update,replica,router,amgr,adminp,sched,http"

type installOpts struct {
	root, user, tasks string
	port              int
	shutdownSeconds   string
	startSeconds      string
	shutdownTimeout   int
	backup            bool   // configure Domino Backup's snapshot mode for quiesce
	quiesce           string // the quiesce binary the snapshot commands run
	deltaDir          string // BackupTargetDirDb: where the .DELTA files go
}

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
		fmt.Fprintf(stdout, "  Domino Backup snapshot mode: %s domino-backup ..., deltas in %s\n", o.quiesce, deltaDirOf(l, o))
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

// linkOrCopy puts the simulator's binary at dst: a hard link keeps the
// name the process runs under, a copy where links cannot cross devices.
func linkOrCopy(src, dst string) error {
	_ = os.Remove(dst)
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	return snapshot.CopyFile(src, dst, 0o755)
}

func installData(data string, tasks []string, o installOpts) error {
	if err := os.MkdirAll(filepath.Join(data, "IBM_TECHNICAL_SUPPORT"), 0o755); err != nil {
		return err
	}
	ini := fmt.Sprintf(`[Notes]
ServerName=SimServer/SimOrg
ServerTasks=%s
TCPIP_TcpIpAddress=0,127.0.0.1:%d
SimShutdownSeconds=%s
SimStartSeconds=%s
`, strings.Join(tasks, ","), o.port, o.shutdownSeconds, o.startSeconds)
	if err := os.WriteFile(filepath.Join(data, "notes.ini"), []byte(ini), 0o644); err != nil {
		return err
	}
	dbs := append([]string{}, serverDBs...)
	for _, t := range tasks {
		dbs = append(dbs, dbOf(t))
	}
	dbs = append(dbs, "pernames.ntf", "mail/archive.nsf")
	for _, db := range dbs {
		if err := nsf.Create(filepath.Join(data, db)); err != nil {
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

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func splitList(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.ToLower(strings.TrimSpace(t)); t != "" && t != "server" {
			out = append(out, t)
		}
	}
	return out
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
	return writeBackupConfig(l.data, o.quiesce, dir)
}

func chownBackupDir(l layout, o installOpts, u *user.User) error {
	if !o.backup {
		return nil
	}
	return chownTree(deltaDirOf(l, o), u)
}
