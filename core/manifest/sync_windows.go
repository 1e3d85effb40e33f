package manifest

// syncDir: Windows cannot sync a directory; the rename (MoveFileEx) is
// atomic.
func syncDir(string) error { return nil }
