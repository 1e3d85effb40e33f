package clock

import (
	"strconv"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// bootIDKey holds BootId, a number Windows (8 and later) raises at every
// boot: with the time since boot (GetTickCount64, which counts sleep as
// CLOCK_BOOTTIME does) it is the boot clock. Where it is missing, no boot
// clock is read and deadlines are on the wall clock.
const bootIDKey = `SYSTEM\CurrentControlSet\Control\Session Manager\Memory Management\PrefetchParameters`

// sinceBoot reads the boot's number and the time since it.
func sinceBoot() (string, time.Duration, bool) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, bootIDKey, registry.QUERY_VALUE)
	if err != nil {
		return "", 0, false
	}
	defer k.Close()
	id, _, err := k.GetIntegerValue("BootId")
	if err != nil {
		return "", 0, false
	}
	return "windows-boot-" + strconv.FormatUint(id, 10), windows.DurationSinceBoot(), true
}
