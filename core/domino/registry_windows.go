package domino

import "golang.org/x/sys/windows/registry"

// registryKey is where Domino's installer records its paths.
const registryKey = `SOFTWARE\Lotus\Domino`

// registryPaths reads the program directory (Path) and data directory
// (DataPath) Domino's installer recorded; "" for what is not there.
func registryPaths() (lotus, data string) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, registryKey, registry.QUERY_VALUE)
	if err != nil {
		return "", ""
	}
	defer k.Close()
	lotus, _, _ = k.GetStringValue("Path")
	data, _, _ = k.GetStringValue("DataPath")
	return lotus, data
}
