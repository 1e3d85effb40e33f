//go:build !windows

package service

import "errors"

func openSCM(string) (scmHandle, error) {
	return nil, errors.New("Windows services exist only on Windows")
}

func listServices() ([]ServiceInfo, error) {
	return nil, errors.New("Windows services exist only on Windows")
}
