package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/windows/svc"
)

// serve runs the server as a Windows service, as nserver.exe runs: the
// service control manager's Stop is the "quit" console command. svc.Run is
// called unconditionally (with the name "simdomino install" wrote into
// notes.ini): under wine, services run in session 1 and
// svc.IsWindowsService says false. A server whose start-up fails ends the
// service with its exit code.
func serve(s *server, stderr io.Writer) int {
	out, err := os.OpenFile(filepath.Join(s.data, serviceOutput), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err == nil {
		defer out.Close()
		s.out, s.con.out, stderr = out, out, out
	}
	h := &service{s: s, stderr: stderr}
	if err := svc.Run(s.ini.get("SimServiceName"), h); err != nil {
		fmt.Fprintln(stderr, "nserver: not started by the service control manager:", err)
		return 1
	}
	return h.code
}

// serviceOutput receives what the server and its tasks print (a service
// has no console).
const serviceOutput = "IBM_TECHNICAL_SUPPORT/nserver-output.log"

type service struct {
	s      *server
	stderr io.Writer
	code   int
}

// Execute implements svc.Handler.
func (h *service) Execute(_ []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	done := make(chan int, 1)
	go func() { done <- h.s.run(h.stderr) }()
	running := svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	status <- running
	for {
		select {
		case h.code = <-done:
			// a failed start reports a service-specific exit code
			return h.code != 0, uint32(h.code)
		case c := <-req:
			switch c.Cmd {
			case svc.Interrogate:
				status <- c.CurrentStatus
			case svc.Stop, svc.Shutdown:
				wait := h.s.ini.seconds("SimShutdownSeconds", 2*time.Second) + 30*time.Second
				status <- svc.Status{State: svc.StopPending, WaitHint: uint32(wait.Milliseconds())}
				h.s.requestQuit()
			}
		}
	}
}
