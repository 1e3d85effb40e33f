package config

// CheckSafe: Windows files are protected by ACLs set at installation.
func CheckSafe(string) error { return nil }
