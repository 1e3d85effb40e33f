package config

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/windows"
)

// CheckSafe refuses a file others could change to make quiesce (run by
// VMware Tools as SYSTEM, by Veeam as an administrator) run something of
// theirs: one whose access control list lets a group every user is in
// change it (see aclProblem). The message says how to fix it.
func CheckSafe(path string) error {
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return err
	}
	dacl, _, err := sd.DACL()
	if err != nil && !errors.Is(err, windows.ERROR_OBJECT_NOT_FOUND) {
		return err
	}
	if dacl == nil {
		if msg := aclProblem(path, true, nil); msg != "" {
			return errors.New(msg)
		}
		return nil
	}
	var aces []ace
	for i := uint32(0); i < uint32(dacl.AceCount); i++ {
		var a *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &a); err != nil {
			return err
		}
		sid := (*windows.SID)(unsafe.Pointer(&a.SidStart))
		e := ace{allow: a.Header.AceType == windows.ACCESS_ALLOWED_ACE_TYPE, only: a.Header.AceFlags&windows.INHERIT_ONLY_ACE != 0,
			mask: uint32(a.Mask), sid: sid.String()}
		if e.allow && !e.only && broad(e.sid) {
			if account, domain, _, err := sid.LookupAccount(""); err == nil {
				e.name = account
				if domain != "" {
					e.name = domain + `\` + account
				}
			}
		}
		aces = append(aces, e)
	}
	if msg := aclProblem(path, false, aces); msg != "" {
		return errors.New(msg)
	}
	return nil
}
