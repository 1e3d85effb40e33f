//go:build !windows

package hook

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// openNoFollow opens path for reading, refusing a symbolic link and not
// blocking on a FIFO.
func openNoFollow(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s is a symbolic link: not following it", path)
	}
	return f, err
}
