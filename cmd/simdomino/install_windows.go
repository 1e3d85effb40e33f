package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/quiesce/quiesce/cmd/simdomino/snapshot"
)

// defaultService is the service name, after the real
// "Lotus Domino Server (LotusDominoData)".
const defaultService = "HCL Domino Server (SimDominoData)"

// layout is where an installation's parts are, as Domino installs on
// Windows: the data directory inside the program directory.
type layout struct{ root, lotus, data, config string }

func layoutOf(root string) layout {
	lotus := filepath.Join(root, "Domino")
	return layout{root: root, lotus: lotus, data: filepath.Join(lotus, "Data"), config: filepath.Join(root, "quiesce.conf")}
}

func install(self string, o installOpts, stdout io.Writer) error {
	if o.service == "" {
		return errors.New("--service: name the Windows service")
	}
	if o.port == 0 {
		var err error
		if o.port, err = freePort(); err != nil {
			return err
		}
	}
	root, err := filepath.Abs(o.root)
	if err != nil {
		return err
	}
	l := layoutOf(root)
	tasks := splitList(o.tasks)
	steps := []func() error{
		func() error { return os.MkdirAll(l.lotus, 0o755) },
		func() error { return installBinaries(self, l.lotus, tasks) },
		func() error { return installData(l.data, tasks, o) },
		func() error { return writeQuiesceConfig(l, o) },
		func() error { return registerService(l, o.service) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "installed simulated Domino in %s\n  program directory %s\n  data directory %s\n  service %q\n  NRPC port %d\n  config %s\n",
		root, l.lotus, l.data, o.service, o.port, l.config)
	return nil
}

// installBinaries copies the simulator under Domino's names.
func installBinaries(self, lotus string, tasks []string) error {
	targets := []string{filepath.Join(lotus, "nserver.exe"), filepath.Join(lotus, "nsd.exe")}
	for _, t := range tasks {
		targets = append(targets, taskExe(lotus, t))
	}
	for _, t := range targets {
		// copies, not hard links: Windows (and wine) name a process after
		// the file it was first opened as, and every task must run under
		// its own name, as Domino's do
		if err := snapshot.CopyFile(self, t, 0o755); err != nil {
			return err
		}
	}
	return nil
}

func writeQuiesceConfig(l layout, o installOpts) error {
	cfg := fmt.Sprintf(`# quiesce.conf written by simdomino install (simulated Domino on Windows)
[domino]
lotus = %s
data = %s
service = %s
shutdown_timeout = %ds
`, l.lotus, l.data, o.service, o.shutdownTimeout)
	return os.WriteFile(l.config, []byte(cfg), 0o644)
}

// registerService registers nserver.exe as a demand-start service, with
// the notes.ini to use as its argument, as Domino's installer does.
func registerService(l layout, name string) error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("service control manager: %w", err)
	}
	defer m.Disconnect()
	if s, err := m.OpenService(name); err == nil {
		s.Close()
		return fmt.Errorf("service %q already exists (simdomino uninstall it first)", name)
	}
	s, err := m.CreateService(name, filepath.Join(l.lotus, "nserver.exe"),
		mgr.Config{DisplayName: name, StartType: mgr.StartManual, Description: "simulated HCL Domino server (quiesce tests)"},
		"="+filepath.Join(l.data, "notes.ini"))
	if err != nil {
		return fmt.Errorf("create service %q: %w", name, err)
	}
	return s.Close()
}

// runUninstall stops the service, ends what is left of the server and
// deletes the service.
func runUninstall(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("uninstall", flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", "", "installation root (required)")
	if err := fs.Parse(args); err != nil || *root == "" {
		fmt.Fprintln(stderr, "usage: simdomino uninstall --root DIR")
		return 2
	}
	l := layoutOf(*root)
	n, err := readIni(l.data)
	if err != nil {
		fmt.Fprintln(stderr, "simdomino uninstall:", err)
		return 1
	}
	name := n.get("SimServiceName")
	if err := removeService(name, l.lotus); err != nil {
		fmt.Fprintln(stderr, "simdomino uninstall:", err)
		return 1
	}
	fmt.Fprintf(stdout, "service %q deleted\n", name)
	return 0
}

func removeService(name, lotus string) error {
	m, err := mgr.Connect()
	if err != nil {
		return err
	}
	defer m.Disconnect()
	s, err := m.OpenService(name)
	if errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) {
		return nil
	}
	if err != nil {
		return err
	}
	defer s.Close()
	if st, err := s.Query(); err == nil && st.State != svc.Stopped {
		_, _ = s.Control(svc.Stop)
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if st, err := s.Query(); err != nil || st.State == svc.Stopped {
				break
			}
		}
	}
	for _, pid := range domProcs(lotus) {
		_ = killPID(pid)
	}
	if err := s.Delete(); err != nil && !strings.Contains(err.Error(), "marked for deletion") {
		return err
	}
	return nil
}
