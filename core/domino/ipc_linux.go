package domino

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// ipcTable describes one /proc/sysvipc table: the column holding the
// object's id and the one holding its owner's uid.
type ipcTable struct {
	kind, file    string
	idCol, uidCol int
	remove        func(id int) error
}

var ipcTables = []ipcTable{
	{"shm", "/proc/sysvipc/shm", 1, 7, func(id int) error { _, err := unix.SysvShmCtl(id, unix.IPC_RMID, nil); return err }},
	{"sem", "/proc/sysvipc/sem", 1, 4, func(id int) error { return rawCtl(unix.SYS_SEMCTL, id, 0, unix.IPC_RMID) }},
	{"msg", "/proc/sysvipc/msg", 1, 7, func(id int) error { return rawCtl(unix.SYS_MSGCTL, id, unix.IPC_RMID, 0) }},
}

func rawCtl(trap uintptr, id, a, b int) error {
	if _, _, errno := unix.Syscall(trap, uintptr(id), uintptr(a), uintptr(b)); errno != 0 {
		return errno
	}
	return nil
}

// removeIPC removes the System V shared memory, semaphores and message
// queues owned by uid, as "ipcrm" in the start script's cleanup does.
func removeIPC(uid int, log *zap.Logger) []string {
	var out []string
	for _, t := range ipcTables {
		for _, id := range ipcOwnedBy(t, uid) {
			if err := t.remove(id); err != nil {
				log.Warn("cannot remove IPC object", zap.String("kind", t.kind), zap.Int("id", id), zap.Error(err))
				continue
			}
			out = append(out, fmt.Sprintf("%s %d", t.kind, id))
		}
	}
	return out
}

func ipcOwnedBy(t ipcTable, uid int) []int {
	f, err := os.Open(t.file)
	if err != nil {
		return nil
	}
	defer f.Close()
	var ids []int
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		cols := strings.Fields(sc.Text())
		if len(cols) <= t.uidCol {
			continue
		}
		owner, err1 := strconv.Atoi(cols[t.uidCol])
		id, err2 := strconv.Atoi(cols[t.idCol])
		if err1 == nil && err2 == nil && owner == uid {
			ids = append(ids, id)
		}
	}
	return ids
}
