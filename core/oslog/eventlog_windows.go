package oslog

import (
	"errors"

	"golang.org/x/sys/windows/registry"
	"golang.org/x/sys/windows/svc/eventlog"
)

// sourceKey is where the Application log's sources are registered.
const sourceKey = `SYSTEM\CurrentControlSet\Services\EventLog\Application\` + Source

// OpenEventLog opens the Application event log under Source, registering
// the source first when it is not (that needs an administrator, as the
// hooks run; without one, entries are still written, and Event Viewer
// says it lacks the source's description).
func OpenEventLog() (*eventlog.Log, error) {
	_ = Register()
	return eventlog.Open(Source)
}

// Register registers Source in the Application log, with EventCreate.exe
// as its message file (it shows each event's text as is); registering a
// source that is registered already does nothing.
func Register() error {
	if k, err := registry.OpenKey(registry.LOCAL_MACHINE, sourceKey, registry.QUERY_VALUE); err == nil {
		k.Close()
		return nil
	} else if !errors.Is(err, registry.ErrNotExist) {
		return err
	}
	return eventlog.InstallAsEventCreate(Source, eventlog.Error|eventlog.Warning|eventlog.Info)
}
