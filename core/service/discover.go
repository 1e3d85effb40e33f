package service

import (
	"path/filepath"
	"strings"

	"go.uber.org/zap"
)

// ServiceInfo is what discovery needs to know of one installed service.
type ServiceInfo struct {
	Name       string
	BinaryPath string // the service's command line, as the SCM stores it
}

// Pick returns the service whose executable lies under one of dirs (case
// does not matter on Windows), "" when none or more than one does: a
// guess between two services would be worse than asking for the name.
func Pick(services []ServiceInfo, dirs []string) string {
	found := ""
	for _, s := range services {
		exe := strings.ToLower(executableOf(s.BinaryPath))
		for _, d := range dirs {
			d = strings.ToLower(strings.TrimRight(d, `\/`))
			if d != "" && (strings.HasPrefix(exe, d+`\`) || strings.HasPrefix(exe, d+"/")) {
				if found != "" && found != s.Name {
					return ""
				}
				found = s.Name
			}
		}
	}
	return found
}

// executableOf takes the program from a service command line:
// "C:\Program Files\x\nservice.exe" =LotusDominoData, or an unquoted one.
func executableOf(cmdline string) string {
	cmdline = strings.TrimSpace(cmdline)
	if strings.HasPrefix(cmdline, `"`) {
		if end := strings.Index(cmdline[1:], `"`); end >= 0 {
			return cmdline[1 : end+1]
		}
	}
	if i := strings.Index(strings.ToLower(cmdline), ".exe"); i >= 0 {
		return cmdline[:i+4]
	}
	return filepath.Clean(cmdline)
}

// Discover finds the installed service running an executable under dirs,
// and logs how it read the services' configurations.
func Discover(dirs []string, log *zap.Logger) (string, error) {
	services, err := listServices(log)
	if err != nil {
		return "", err
	}
	return Pick(services, dirs), nil
}
