package service

import (
	"fmt"
	"unsafe"

	"go.uber.org/zap"
	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"
)

type winService struct {
	m *mgr.Mgr
	s *mgr.Service
}

func openSCM(name string) (scmHandle, error) {
	m, err := mgr.Connect()
	if err != nil {
		return nil, err
	}
	s, err := m.OpenService(name)
	if err != nil {
		m.Disconnect()
		return nil, err
	}
	return &winService{m: m, s: s}, nil
}

func (w *winService) State() (SCMState, error) {
	st, err := w.s.Query()
	if err != nil {
		return SCMOther, err
	}
	switch st.State {
	case svc.Stopped:
		return SCMStopped, nil
	case svc.StartPending:
		return SCMStartPending, nil
	case svc.StopPending:
		return SCMStopPending, nil
	case svc.Running:
		return SCMRunning, nil
	}
	return SCMOther, nil
}

func (w *winService) Stop() error {
	_, err := w.s.Control(svc.Stop)
	return err
}

func (w *winService) Start() error { return w.s.Start() }

func (w *winService) Close() {
	w.s.Close()
	w.m.Disconnect()
}

func listServices(log *zap.Logger) ([]ServiceInfo, error) {
	m, err := mgr.Connect()
	if err != nil {
		return nil, err
	}
	defer m.Disconnect()
	names, err := m.ListServices()
	if err != nil {
		return nil, err
	}
	var out []ServiceInfo
	fellBack := false
	for _, n := range names {
		s, err := m.OpenService(n)
		if err != nil {
			continue
		}
		path, viaFallback, err := binaryPath(s)
		s.Close()
		if err != nil {
			log.Debug("service configuration unreadable", zap.String("service", n), zap.Error(err))
			continue
		}
		if viaFallback && !fellBack {
			fellBack = true
			log.Info("mgr.Service.Config failed; reading service command lines with QueryServiceConfig instead", zap.String("service", n))
		}
		out = append(out, ServiceInfo{Name: n, BinaryPath: path})
	}
	return out, nil
}

// binaryPath returns the service's command line. mgr.Service.Config also
// reads optional settings (QueryServiceConfig2), which fails where they
// are not supported (wine 8: "Invalid level"); only the command line is
// needed, which plain QueryServiceConfig gives.
func binaryPath(s *mgr.Service) (path string, viaFallback bool, err error) {
	if c, err := s.Config(); err == nil {
		return c.BinaryPathName, false, nil
	}
	path, err = queryBinaryPath(s.Handle)
	return path, true, err
}

// queryBinaryPath reads the command line with QueryServiceConfig alone.
func queryBinaryPath(h windows.Handle) (string, error) {
	var needed uint32
	err := windows.QueryServiceConfig(h, nil, 0, &needed)
	if err != windows.ERROR_INSUFFICIENT_BUFFER {
		return "", fmt.Errorf("QueryServiceConfig: %w", err)
	}
	buf := make([]byte, needed)
	c := (*windows.QUERY_SERVICE_CONFIG)(unsafe.Pointer(&buf[0]))
	if err := windows.QueryServiceConfig(h, c, needed, &needed); err != nil {
		return "", fmt.Errorf("QueryServiceConfig: %w", err)
	}
	return windows.UTF16PtrToString(c.BinaryPathName), nil
}
