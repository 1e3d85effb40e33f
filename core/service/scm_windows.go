package service

import (
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

func listServices() ([]ServiceInfo, error) {
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
	for _, n := range names {
		s, err := m.OpenService(n)
		if err != nil {
			continue
		}
		if c, err := s.Config(); err == nil {
			out = append(out, ServiceInfo{Name: n, BinaryPath: c.BinaryPathName})
		}
		s.Close()
	}
	return out, nil
}
