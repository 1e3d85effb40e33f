package simtest

import (
	"testing"
	"time"

	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"
)

// withService runs fn on the named service, opened through the service
// control manager; a failure to reach it fails the test.
func withService(t testing.TB, name string, fn func(s *mgr.Service)) {
	t.Helper()
	m, err := mgr.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(name)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fn(s)
}

// ServiceState is what the service control manager says of the named
// service.
func ServiceState(t testing.TB, name string) svc.State {
	t.Helper()
	var state svc.State
	withService(t, name, func(s *mgr.Service) {
		st, err := s.Query()
		if err != nil {
			t.Fatal(err)
		}
		state = st.State
	})
	return state
}

// ControlService starts (start) or stops the named service through the
// service control manager and waits until it reports that state.
func ControlService(t testing.TB, name string, start bool) {
	t.Helper()
	withService(t, name, func(s *mgr.Service) {
		want, err := svc.Stopped, error(nil)
		if start {
			want, err = svc.Running, s.Start()
		} else {
			_, err = s.Control(svc.Stop)
		}
		if err != nil {
			t.Fatal(err)
		}
		Eventually(t, 30*time.Second, "service state", func() bool {
			st, err := s.Query()
			return err == nil && st.State == want
		})
	})
}
