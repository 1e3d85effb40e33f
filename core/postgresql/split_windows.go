package postgresql

import "errors"

// Split says which part of the data directory dir is on another file
// system; Windows: not told apart (pg_backup = auto holds the backup).
func Split(string) (string, error) { return "", errors.New("not told apart on Windows") }
