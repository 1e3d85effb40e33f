//go:build !windows && !linux

package proc

import (
	"context"

	"github.com/shirou/gopsutil/v3/process"
)

// owner reads gp's owner and checks it against m first: on a busy machine
// most processes are rejected by their UID before anything else is read.
func owner(ctx context.Context, gp *process.Process, m Matcher) (ownerID, bool) {
	uids, err := gp.UidsWithContext(ctx)
	if err != nil || len(uids) == 0 {
		return ownerID{}, false
	}
	if m.UID >= 0 && uids[0] != m.UID {
		return ownerID{}, false
	}
	return ownerID{uid: uids[0]}, true
}
