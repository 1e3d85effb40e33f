package main

import "os"

// openAppend opens path for appending, creating it when missing; the log
// folder (%ProgramData%\quiesce) is kept to administrators by its ACL.
func openAppend(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
}
