package proc

import (
	"context"
	"fmt"
)

// ByPID reads the process pid now (a child just started, say), with its
// start time: its identity for Alive, Signal and Wait later.
func ByPID(pid int) (Proc, error) {
	p, ok := inspect(context.Background(), int32(pid), Matcher{UID: -1})
	if !ok {
		return Proc{}, fmt.Errorf("process %d is gone", pid)
	}
	return p, nil
}
