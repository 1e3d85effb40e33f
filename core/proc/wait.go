package proc

import (
	"context"
	"time"
)

// pollInterval is the fallback polling period where no exit event is
// available: no coarser than 20 ms.
const pollInterval = 20 * time.Millisecond

// maxBlock bounds one blocking wait so that a cancelled context is noticed.
const maxBlock = 100 * time.Millisecond

// Wait blocks until every process in procs has exited, the deadline passes
// or ctx is done, and returns those still alive. It is event-driven where
// the platform allows (pidfd on Linux) and polls every 20 ms otherwise.
func Wait(ctx context.Context, procs []Proc, deadline time.Time) []Proc {
	if len(procs) == 0 {
		return nil
	}
	if left, ok := waitEvents(ctx, procs, deadline); ok {
		return left
	}
	return waitPoll(ctx, procs, deadline)
}

func waitPoll(ctx context.Context, procs []Proc, deadline time.Time) []Proc {
	left := alive(procs)
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for len(left) > 0 && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return left
		case <-t.C:
			left = alive(left)
		}
	}
	return left
}

func alive(procs []Proc) []Proc {
	var out []Proc
	for _, p := range procs {
		if Alive(p) {
			out = append(out, p)
		}
	}
	return out
}
