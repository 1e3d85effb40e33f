package arcserve

import "os"

// openOutput opens the agent's output file for reading and writing. The
// variable comes from Arcserve's Linux agent; on Windows it is used as
// given.
func openOutput(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}
