package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/windows"
)

// setACL replaces path's DACL with full control for SYSTEM and the
// current user, plus the given rights for Everyone (none when 0).
func setACL(t *testing.T, path string, everyone windows.ACCESS_MASK) {
	t.Helper()
	tok := windows.GetCurrentProcessToken()
	me, err := tok.GetTokenUser()
	if err != nil {
		t.Fatal(err)
	}
	system, _ := windows.CreateWellKnownSid(windows.WinLocalSystemSid)
	world, _ := windows.CreateWellKnownSid(windows.WinWorldSid)
	grant := func(sid *windows.SID, mask windows.ACCESS_MASK) windows.EXPLICIT_ACCESS {
		return windows.EXPLICIT_ACCESS{AccessPermissions: mask, AccessMode: windows.GRANT_ACCESS, Inheritance: windows.NO_INHERITANCE,
			Trustee: windows.TRUSTEE{TrusteeForm: windows.TRUSTEE_IS_SID, TrusteeValue: windows.TrusteeValueFromSID(sid)}}
	}
	entries := []windows.EXPLICIT_ACCESS{grant(system, windows.GENERIC_ALL), grant(me.User.Sid, windows.GENERIC_ALL)}
	if everyone != 0 {
		entries = append(entries, grant(world, everyone))
	}
	acl, err := windows.ACLFromEntries(entries, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, acl, nil); err != nil {
		t.Fatal(err)
	}
}

// On Windows (for real under wine) a configuration any user may change is
// refused with the icacls line that fixes it; read rights for everyone
// are fine.
func TestCheckSafeWindowsACL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "quiesce.conf")
	if err := os.WriteFile(path, []byte("[domino]\nuser = notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	setACL(t, path, windows.GENERIC_READ|windows.GENERIC_EXECUTE)
	if err := CheckSafe(path); err != nil {
		t.Fatalf("everyone may read: %v", err)
	}
	setACL(t, path, windows.GENERIC_READ|windows.GENERIC_WRITE)
	err := CheckSafe(path)
	if err == nil || !strings.Contains(err.Error(), "S-1-1-0") || !strings.Contains(err.Error(), "icacls") {
		t.Fatalf("everyone may write: %v", err)
	}
	_, err = Load(path)
	var ce *Error
	if !errors.As(err, &ce) || !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "unsafe") {
		t.Fatalf("Load of a configuration everyone may change: %v", err)
	}
	setACL(t, path, 0)
	if err := CheckSafe(path); err != nil {
		t.Fatalf("only SYSTEM and the owner: %v", err)
	}
}
