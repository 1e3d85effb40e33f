//go:build !windows

package domino

// registryPaths: no registry outside Windows.
func registryPaths() (lotus, data string) { return "", "" }
