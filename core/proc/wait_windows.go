package proc

import (
	"context"
	"time"

	"golang.org/x/sys/windows"
)

// waitEvents waits on the processes' handles, which are signalled when a
// process exits. Handles are opened after checking identity, so a reused
// PID is never waited for.
func waitEvents(ctx context.Context, procs []Proc, deadline time.Time) (left []Proc, ok bool) {
	var hs []windows.Handle
	defer func() {
		for _, h := range hs {
			windows.CloseHandle(h)
		}
	}()
	for _, p := range procs {
		h, err := openSame(p, windows.SYNCHRONIZE)
		if err != nil {
			continue // gone already
		}
		hs = append(hs, h)
		left = append(left, p)
	}
	for len(hs) > 0 {
		remaining := time.Until(deadline)
		if remaining <= 0 || ctx.Err() != nil {
			break
		}
		// At most 64 handles per wait: the first ones must exit anyway.
		batch := hs[:min(len(hs), maxWaitObjects)]
		ev, err := windows.WaitForMultipleObjects(batch, false, uint32(min(remaining, maxBlock).Milliseconds())+1)
		if err != nil {
			return nil, false
		}
		if i := int(ev - windows.WAIT_OBJECT_0); i >= 0 && i < len(batch) {
			windows.CloseHandle(hs[i])
			hs = append(hs[:i], hs[i+1:]...)
			left = append(left[:i], left[i+1:]...)
		}
	}
	return left, true
}

// maxWaitObjects is MAXIMUM_WAIT_OBJECTS, the most handles one
// WaitForMultipleObjects takes.
const maxWaitObjects = 64
