package config

import (
	"fmt"
	"os"
	"runtime"
)

// ReadSecret reads a file that holds a password (a .pgpass, a MySQL
// client option file): safe as ReadSafe requires (no one else could
// change it), and, on Unix, readable by its owner alone (mode 0600 or
// 0400), as libpq requires of a password file. A file others can read is
// refused, not used: the password may already be known to them.
func ReadSecret(path string) ([]byte, error) {
	b, err := ReadSafe(path)
	if err != nil {
		return nil, err
	}
	if runtime.GOOS == "windows" {
		return b, nil // ReadSafe checked the ACL
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, &Error{File: path, Msg: readMsg(err), Err: err}
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, &Error{File: path, Msg: fmt.Sprintf("unsafe: it holds a password and group or others may read it (mode %04o): fix with chmod 600 %s", perm, path), Err: ErrUnsafe}
	}
	return b, nil
}
