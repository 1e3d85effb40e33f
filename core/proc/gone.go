package proc

import (
	"context"
	"time"
)

// WaitGone waits until src shows no process m matches, or the deadline
// passes, rescanning after each wave of exits so that a process started
// meanwhile is waited for too. It returns what is left.
func WaitGone(ctx context.Context, src Source, m Matcher, deadline time.Time) ([]Proc, error) {
	procs, err := src.Scan(m)
	if err != nil {
		return nil, err
	}
	return WaitGoneFrom(ctx, src, m, procs, deadline)
}

// WaitGoneFrom is WaitGone starting from procs, what a scan of m found a
// moment ago: it saves one scan of the process table. Processes started
// since are found by the scan after the first wave of exits.
func WaitGoneFrom(ctx context.Context, src Source, m Matcher, procs []Proc, deadline time.Time) ([]Proc, error) {
	for len(procs) > 0 {
		if left := Wait(ctx, procs, deadline); len(left) > 0 {
			if err := ctx.Err(); err != nil {
				return left, err
			}
			return src.Scan(m)
		}
		var err error
		if procs, err = src.Scan(m); err != nil {
			return nil, err
		}
	}
	return nil, nil
}
