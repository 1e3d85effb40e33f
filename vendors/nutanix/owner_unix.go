//go:build !windows

package nutanix

import (
	"os"
	"syscall"
)

func owner(st os.FileInfo) (uint32, bool) {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return sys.Uid, true
}
