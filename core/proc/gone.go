package proc

import (
	"context"
	"time"
)

// WaitGone waits until src shows no process m matches, or the deadline
// passes, rescanning after each wave of exits so that a process started
// meanwhile is waited for too. It returns what is left.
func WaitGone(ctx context.Context, src Source, m Matcher, deadline time.Time) ([]Proc, error) {
	for {
		procs, err := src.Scan(m)
		if err != nil || len(procs) == 0 {
			return nil, err
		}
		if left := Wait(ctx, procs, deadline); len(left) > 0 {
			if err := ctx.Err(); err != nil {
				return left, err
			}
			return src.Scan(m)
		}
	}
}
