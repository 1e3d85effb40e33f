package oslog

import (
	"errors"
	"testing"

	"go.uber.org/zap"
	"golang.org/x/sys/windows/registry"
	"golang.org/x/sys/windows/svc/eventlog"
)

// The source is registered in the Application log (EventCreate.exe as its
// message file, errors, warnings and information), registering it again
// changes nothing, and the event log takes quiesce's failure and warning.
// Under wine this proves the registry key and that ReportEvent accepts the
// events; wine keeps no event log to read them back from, so that they
// show in Event Viewer stays unproven here.
func TestEventLogSource(t *testing.T) {
	_, err := registry.OpenKey(registry.LOCAL_MACHINE, sourceKey, registry.QUERY_VALUE)
	existed := err == nil
	if !existed && !errors.Is(err, registry.ErrNotExist) {
		t.Fatal(err)
	}
	if err := Register(); err != nil {
		t.Fatalf("register the source (needs an administrator): %v", err)
	}
	if !existed {
		t.Cleanup(func() { _ = eventlog.Remove(Source) })
	}
	if err := Register(); err != nil {
		t.Fatalf("registering again: %v", err)
	}
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, sourceKey, registry.QUERY_VALUE)
	if err != nil {
		t.Fatalf("source key: %v", err)
	}
	defer k.Close()
	file, _, err := k.GetStringValue("EventMessageFile")
	if err != nil || file != `%SystemRoot%\System32\EventCreate.exe` {
		t.Fatalf("EventMessageFile %q %v", file, err)
	}
	types, _, err := k.GetIntegerValue("TypesSupported")
	if err != nil || types != eventlog.Error|eventlog.Warning|eventlog.Info {
		t.Fatalf("TypesSupported %d %v", types, err)
	}

	l, err := OpenEventLog()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var failed error
	log := zap.New(NewEventLog(reporting{l, &failed})).With(zap.String("target", "domino"))
	log.Error("operation failed", zap.String("op", "thaw"), zap.String("caller", "vmware"), zap.Error(errors.New("start failed")))
	log.Info("operation done", zap.String("op", "freeze"), zap.Strings("warnings", []string{"domino had to be killed"}))
	if failed != nil {
		t.Fatalf("ReportEvent: %v", failed)
	}
}

// reporting keeps the first error of the event log, which a zap core
// cannot return to its caller.
type reporting struct {
	l   *eventlog.Log
	err *error
}

func (r reporting) Error(id uint32, msg string) error   { return r.keep(r.l.Error(id, msg)) }
func (r reporting) Warning(id uint32, msg string) error { return r.keep(r.l.Warning(id, msg)) }
func (r reporting) keep(err error) error {
	if err != nil && *r.err == nil {
		*r.err = err
	}
	return err
}
