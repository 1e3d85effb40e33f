package proc

import "testing"

// Windows paths compare without case, with either separator; a prefix of
// a directory name is not the directory.
func TestMatchPathWindows(t *testing.T) {
	m := Matcher{UID: -1, Prefixes: []string{`C:\Program Files\HCL\Domino\`}}
	for path, want := range map[string]bool{
		`C:\Program Files\HCL\Domino\nserver.exe`:      true,
		`c:\program files\hcl\domino\NUPDATE.EXE`:      true,
		`C:/Program Files/HCL/Domino/nhttp.exe`:        true,
		`C:\Program Files\HCL\Domino2\nserver.exe`:     false,
		`C:\Program Files\HCL\Domino\..\x\nserver.exe`: false,
	} {
		if got := m.MatchPath(path); got != want {
			t.Errorf("%s: got %v", path, got)
		}
	}
}

// On Windows no process has a UID: a matcher that asks for one matches
// nothing rather than everything, and SetOwner selects by account.
func TestSetOwnerWindows(t *testing.T) {
	var m Matcher
	m.SetOwner(1000, `SRV1\notes`)
	if m.UID != -1 || m.Account != `SRV1\notes` {
		t.Fatalf("%+v", m)
	}
}
