package config

import (
	"strings"
	"testing"
)

// The Windows safety rule on DACLs as Windows writes them: what an
// administrator's file in C:\ProgramData\quiesce inherits is safe; a
// right to change the file for a group every user is in is not.
func TestACLProblem(t *testing.T) {
	const path = `C:\ProgramData\quiesce\quiesce.conf`
	system := ace{allow: true, mask: 0x1f01ff, sid: "S-1-5-18"}
	admins := ace{allow: true, mask: 0x1f01ff, sid: "S-1-5-32-544"}
	creator := ace{allow: true, mask: 0x1f01ff, sid: "S-1-5-21-1-2-3-1001"} // CREATOR OWNER, resolved to the admin who created it
	usersRX := ace{allow: true, mask: 0x1200a9, sid: "S-1-5-32-545"}
	name := func(sid string) string { return map[string]string{"S-1-5-32-545": `BUILTIN\Users`}[sid] }
	for _, c := range []struct {
		name string
		null bool
		aces []ace
		want string // in the problem; "" for none
	}{
		{"ProgramData's inheritance for a file", false, []ace{system, admins, creator, usersRX}, ""},
		{"Users may create files in the folder (inherit-only for files)", false,
			[]ace{system, admins, usersRX, {allow: true, only: true, mask: 0x116, sid: "S-1-5-32-545"}}, ""},
		{"a single account with full control", false, []ace{system, {allow: true, mask: 0x1f01ff, sid: "S-1-5-21-9-9-9-1105"}}, ""},
		{"a deny ACE is not a grant", false, []ace{system, {allow: false, mask: 0x1f01ff, sid: "S-1-1-0"}}, ""},
		{"a NULL DACL", true, nil, "no access control list"},
		{"Users may write", false, []ace{system, {allow: true, mask: 0x1301bf, sid: "S-1-5-32-545"}}, `writable by BUILTIN\Users (S-1-5-32-545)`},
		{"Everyone with GENERIC_ALL", false, []ace{{allow: true, mask: 0x10000000, sid: "S-1-1-0"}}, "writable by S-1-1-0"},
		{"Authenticated Users may change the ACL", false, []ace{{allow: true, mask: 0x40000, sid: "S-1-5-11"}}, "S-1-5-11"},
		{"Domain Users may append", false, []ace{{allow: true, mask: 0x4, sid: "S-1-5-21-11-22-33-513"}}, "S-1-5-21-11-22-33-513"},
		{"wine's mapping of mode 0666", false, []ace{system, {allow: true, mask: 0x1f01ff, sid: "S-1-5-21-0-0-0-1000"}, {allow: true, mask: 0x1301ff, sid: "S-1-1-0"}}, "S-1-1-0"},
	} {
		got := aclProblem(path, c.null, c.aces, name)
		switch {
		case c.want == "" && got != "":
			t.Errorf("%s: refused: %s", c.name, got)
		case c.want != "" && (!strings.Contains(got, c.want) || !strings.Contains(got, `icacls "`+path+`"`)):
			t.Errorf("%s: %q, want it to name %q and the icacls fix", c.name, got, c.want)
		}
	}
}
