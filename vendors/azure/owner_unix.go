//go:build !windows

package azure

import (
	"io/fs"
	"syscall"
)

// owner returns a file's owner uid.
func owner(fi fs.FileInfo) (uint32, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Uid, true
}
