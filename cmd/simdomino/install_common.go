package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
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
	service           string // Windows: the service's name
	backup            bool   // configure Domino Backup's snapshot mode for quiesce
	quiesce           string // the quiesce binary the snapshot commands run
	deltaDir          string // BackupTargetDirDb: where the .DELTA files go
	backupOrder       string // orderStart or orderSnapshot: when Domino ends backup mode (notes.ini SimBackupOrder)
	restoreOpts       string // options of quiesce domino-backup restore-db in the restore commands
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
	if o.service != "" {
		ini += "SimServiceName=" + o.service + "\n"
	}
	if o.backup && o.backupOrder != "" {
		ini += "SimBackupOrder=" + o.backupOrder + "\n"
	}
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
