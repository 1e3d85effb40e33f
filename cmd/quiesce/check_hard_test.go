package main

import (
	"regexp"
	"slices"
	"strings"
)

// hardCallers give up on (or kill) their hook at a short limit. Without
// online mode a clean Domino stop never fits them, so check says so and
// fails on any machine that lacks Domino Backup; a test of something else
// about check looks past them.
var hardCallers = []string{"nutanix", "gcp", "azure", "aws"}

var misfit = regexp.MustCompile(`(?m)^(\S+)\s+DOES NOT FIT`)

// onlyHardMisfits reports whether every caller check says does not fit is
// a hard caller whose freezes check says are refused at once.
func onlyHardMisfits(out string) bool {
	for _, m := range misfit.FindAllStringSubmatch(out, -1) {
		if !slices.Contains(hardCallers, m[1]) || !strings.Contains(out, "=> a freeze by "+m[1]+" is refused at once") {
			return false
		}
	}
	return true
}

// checkPasses is check's verdict with the hard callers' misfits set aside:
// exit 0, or exit 1 with no warning and no other caller that does not fit.
func checkPasses(code int, out string) bool {
	return code == ExitOK || code == ExitFailure && onlyHardMisfits(out) && !strings.Contains(out, "WARNING")
}
