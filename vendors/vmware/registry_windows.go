package vmware

import "golang.org/x/sys/windows/registry"

// toolsInstallPath reads VMware Tools' install folder from the registry.
func toolsInstallPath() (string, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, ToolsKey, registry.QUERY_VALUE)
	if err != nil {
		return "", err
	}
	defer k.Close()
	v, _, err := k.GetStringValue(InstallPathValue)
	return v, err
}
