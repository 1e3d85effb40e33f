package config

import (
	"fmt"
	"strings"
)

// An ACE of a Windows file's DACL, as far as the safety check needs it.
// (The Windows build reads them from the file; the logic is here so that
// it is tested on every platform.)
type ace struct {
	allow bool   // an access-allowed ACE (deny ACEs are not weighed)
	only  bool   // inherit-only: applies to children, not to the file
	mask  uint32 // access mask
	sid   string // the trustee, as S-1-...
}

// Access rights that let a trustee change a file or its protection:
// FILE_WRITE_DATA, FILE_APPEND_DATA, WRITE_DAC, WRITE_OWNER,
// GENERIC_WRITE, GENERIC_ALL.
const aceWriteMask = 0x2 | 0x4 | 0x40000 | 0x80000 | 0x40000000 | 0x10000000

// broadSIDs are the groups every user of the machine (or domain) is in.
var broadSIDs = map[string]bool{
	"S-1-1-0":      true, // Everyone
	"S-1-5-7":      true, // Anonymous Logon
	"S-1-5-4":      true, // Interactive
	"S-1-5-11":     true, // Authenticated Users
	"S-1-5-32-545": true, // Users
	"S-1-5-32-546": true, // Guests
}

// broad reports whether sid is a group every user is in: a well-known
// one, or a domain's Domain Users (S-1-5-21-...-513) or Domain Guests (-514).
func broad(sid string) bool {
	return broadSIDs[sid] || strings.HasPrefix(sid, "S-1-5-21-") && (strings.HasSuffix(sid, "-513") || strings.HasSuffix(sid, "-514"))
}

// aclProblem says why a file with this DACL is unsafe for quiesce to obey
// ("" when it is not): a NULL DACL gives everyone every right; an allow
// ACE that gives a group every user is in a right to change the file lets
// any user make quiesce (which runs as SYSTEM or an administrator) run a
// command of theirs. Rights of single accounts are not judged: an
// administrator's own account has them on the files it creates. name
// gives the offending trustee's account name ("" when unknown): it is
// looked up only for the message.
func aclProblem(path string, nullDACL bool, aces []ace, name func(sid string) string) string {
	fix := fmt.Sprintf(`fix with: icacls "%s" /inheritance:r /grant:r *S-1-5-18:F *S-1-5-32-544:F *S-1-5-32-545:RX`, path)
	if nullDACL {
		return fmt.Sprintf("%s has no access control list: everyone may change it; %s", path, fix)
	}
	for _, a := range aces {
		if !a.allow || a.only || a.mask&aceWriteMask == 0 || !broad(a.sid) {
			continue
		}
		who := a.sid
		if n := name(a.sid); n != "" {
			who = n + " (" + a.sid + ")"
		}
		return fmt.Sprintf("%s is writable by %s; %s", path, who, fix)
	}
	return ""
}
