//go:build !linux && !windows

package clock

import "time"

// sinceBoot: no boot clock is read on this platform; deadlines are on the
// wall clock.
func sinceBoot() (string, time.Duration, bool) { return "", 0, false }
