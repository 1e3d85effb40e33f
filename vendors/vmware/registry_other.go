//go:build !windows

package vmware

import "errors"

func toolsInstallPath() (string, error) {
	return "", errors.New("no registry on this platform")
}
