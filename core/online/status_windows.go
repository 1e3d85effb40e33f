package online

import (
	"fmt"
	"os"
)

// openNoFollow refuses a reparse point (symlink) at path.
func openNoFollow(path string) (*os.File, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode()&os.ModeSymlink != 0 {
		return nil, fmt.Errorf("%s: %w", path, ErrUnsafeStatus)
	}
	return os.Open(path)
}
