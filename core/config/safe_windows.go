package config

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// openSafe opens path for reading (see ReadSafe): a regular file of at
// most MaxSize whose access control list lets no group every user is in
// change it.
func openSafe(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	switch {
	case err != nil:
	case !st.Mode().IsRegular():
		err = ErrNotRegular
	case st.Size() > MaxSize:
		err = fmt.Errorf("larger than %d bytes: not a configuration file", MaxSize)
	default:
		err = checkACL(path)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// checkACL refuses a file others could change to make quiesce (run by
// VMware Tools as SYSTEM, by Veeam as an administrator) run something of
// theirs: one whose access control list lets a group every user is in
// change it (see aclProblem). The message says how to fix it.
func checkACL(path string) error {
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return err
	}
	dacl, _, err := sd.DACL()
	if err != nil && !errors.Is(err, windows.ERROR_OBJECT_NOT_FOUND) {
		return err
	}
	if dacl == nil {
		return unsafef("%s", aclProblem(path, true, nil, accountName))
	}
	var aces []ace
	for i := uint32(0); i < uint32(dacl.AceCount); i++ {
		var a *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &a); err != nil {
			return err
		}
		sid := (*windows.SID)(unsafe.Pointer(&a.SidStart))
		aces = append(aces, ace{allow: a.Header.AceType == windows.ACCESS_ALLOWED_ACE_TYPE, only: a.Header.AceFlags&windows.INHERIT_ONLY_ACE != 0,
			mask: uint32(a.Mask), sid: sid.String()})
	}
	if msg := aclProblem(path, false, aces, accountName); msg != "" {
		return unsafef("%s", msg)
	}
	return nil
}

// accountName is DOMAIN\account for a SID, "" when it cannot be looked up.
func accountName(s string) string {
	sid, err := windows.StringToSid(s)
	if err != nil {
		return ""
	}
	account, domain, _, err := sid.LookupAccount("")
	switch {
	case err != nil:
		return ""
	case domain != "":
		return domain + `\` + account
	}
	return account
}

// checkDir: folders quiesce writes into on Windows (VMware Tools'
// backupScripts.d under Program Files) are kept to administrators by
// Windows itself; quiesce checks the files it reads (checkACL).
func checkDir(string) error { return nil }
