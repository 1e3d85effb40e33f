//go:build !windows

package holder

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
)

// maxSocketPath is what fits a Unix socket's address (108 bytes with the
// terminating NUL on Linux, 104 on the BSDs).
const maxSocketPath = 100

// listen creates the control socket at path (mode 0600; a stale one is
// replaced). A path too long for a socket address is reached through its
// directory's descriptor.
func listen(path string) (*net.UnixListener, error) {
	_ = os.Remove(path)
	var ln *net.UnixListener
	err := viaDir(path, func(addr string) error {
		l, err := net.ListenUnix("unix", &net.UnixAddr{Name: addr, Net: "unix"})
		if err != nil {
			return err
		}
		ln = l
		return os.Chmod(addr, 0o600) // in a directory only root reaches anyway

	})
	return ln, err
}

// dial connects to the control socket at path.
func dial(ctx context.Context, path string) (net.Conn, error) {
	var conn net.Conn
	err := viaDir(path, func(addr string) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "unix", addr)
		conn = c
		return err
	})
	return conn, err
}

// viaDir calls fn with path, or, when path is too long for a socket
// address, with /proc/self/fd/N/NAME where N is its directory, opened.
func viaDir(path string, fn func(addr string) error) error {
	if len(path) <= maxSocketPath {
		return fn(path)
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer dir.Close()
	short := fmt.Sprintf("/proc/self/fd/%d/%s", dir.Fd(), filepath.Base(path))
	if len(short) > maxSocketPath {
		return fmt.Errorf("socket name too long: %s", path)
	}
	return fn(short)
}
