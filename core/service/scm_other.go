//go:build !windows

package service

import "errors"

func openSCM(string) (scmHandle, error) {
	return nil, errors.New("a Windows service can only be managed on Windows")
}

func listServices() ([]ServiceInfo, error) {
	return nil, errors.New("a Windows service can only be managed on Windows")
}
