package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/timeline"
)

// runClient sends one console command to the server on this data
// directory: "-q" asks it to shut down, "-c CMD" runs CMD.
func runClient(args []string, stdout, stderr io.Writer) int {
	cmd := "quit"
	for i, a := range args {
		if a == "-c" {
			if i+1 >= len(args) {
				fmt.Fprintln(stderr, "server: -c needs a console command")
				return 2
			}
			cmd = args[i+1]
		}
	}
	data, err := dataDirFromArgs(args)
	if err != nil {
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	reply, err := send(data, cmd)
	if err != nil {
		fmt.Fprintf(stderr, "server: no server is running on %s: %v\n", data, err)
		return 1
	}
	fmt.Fprint(stdout, reply)
	return 0
}

func send(data, cmd string) (string, error) {
	c, err := dialControl(data)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintln(c, cmd); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

// runNsd is LOTUS/bin/nsd (nsd.exe on Windows). "nsd -kill" kills every
// process of the server at once (SIGKILL or TerminateProcess, databases
// left open); plain "nsd" writes a diagnostic report. SimNsdFail=1 in notes.ini makes it fail without killing.
func runNsd(exe string, args []string, stdout, stderr io.Writer) int {
	data, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(stderr, "nsd:", err)
		return 1
	}
	n, _ := readIni(data)
	lotus := lotusOf(exe)
	procs := domProcs(lotus)
	if !hasFlag(args, "-kill") {
		return nsdReport(data, procs, stdout, stderr)
	}
	if n != nil && n.flag("SimNsdFail") {
		fmt.Fprintln(stderr, "nsd: cannot attach to the server's memory (simulated failure)")
		return 1
	}
	killed := 0
	for _, pid := range procs {
		if killPID(pid) == nil {
			killed++
		}
	}
	_ = os.Remove(filepath.Join(data, pidFile))
	_ = timeline.Append(data, timeline.NsdKill, fmt.Sprintf("%d", killed))
	fmt.Fprintf(stdout, "nsd: killed %d Domino processes\n", killed)
	return 0
}

func nsdReport(data string, procs []int, stdout, stderr io.Writer) int {
	name := filepath.Join(data, "IBM_TECHNICAL_SUPPORT", fmt.Sprintf("nsd_%s.log", time.Now().Format("20060102_150405")))
	var b strings.Builder
	for _, pid := range procs {
		fmt.Fprintf(&b, "%d %s\n", pid, exeOf(pid))
	}
	if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
		fmt.Fprintln(stderr, "nsd:", err)
		return 1
	}
	fmt.Fprintf(stdout, "nsd: report written to %s\n", name)
	return 0
}
