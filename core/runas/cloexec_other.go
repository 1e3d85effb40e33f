//go:build !linux

package runas

// CloseInheritedOnExec: elsewhere the caller's descriptors are left as
// they are.
func CloseInheritedOnExec() {}
