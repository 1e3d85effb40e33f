//go:build !windows

package service

import (
	"errors"

	"go.uber.org/zap"
)

func openSCM(string) (scmHandle, error) {
	return nil, errors.New("a Windows service can only be managed on Windows")
}

func listServices(*zap.Logger) ([]ServiceInfo, error) {
	return nil, errors.New("a Windows service can only be managed on Windows")
}
