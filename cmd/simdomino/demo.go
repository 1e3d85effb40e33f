//go:build !windows

package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/nsf"
	"github.com/quiesce/quiesce/cmd/simdomino/snapshot"
	"github.com/quiesce/quiesce/cmd/simdomino/timeline"
)

// demo shows quiesce stopping and starting the simulated server, what a
// snapshot of the data looks like running and stopped, and how much time
// quiesce adds to the server's own.
type demo struct {
	quiesce string
	l       layout
	logFile string
	out     io.Writer
	failed  bool
	config  string // quiesce's configuration; "" for the start script's rc_domino_config
	port    int    // NRPC
}

func runDemo(self string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	quiesce := fs.String("quiesce", "", "path to the quiesce binary (default: build it from this checkout)")
	keep := fs.Bool("keep", false, "keep the temporary installation")
	if code, ok := parseFlags(fs, "simdomino demo [options]: quiesce stops and starts a simulated Domino server, with a timeline", args, stdout, stderr); !ok {
		return code
	}
	root, err := os.MkdirTemp("", "quiesce-demo-")
	if err != nil {
		fmt.Fprintln(stderr, "simdomino demo:", err)
		return 1
	}
	if *quiesce == "" {
		if *quiesce, err = buildQuiesce(root, stdout); err != nil {
			os.RemoveAll(root)
			fmt.Fprintln(stderr, "simdomino demo:", err)
			return 1
		}
	}
	if *quiesce, err = filepath.Abs(*quiesce); err != nil {
		fmt.Fprintln(stderr, "simdomino demo:", err)
		return 1
	}
	d := &demo{quiesce: *quiesce, l: layoutOf(root), logFile: filepath.Join(root, "quiesce.log"), out: stdout}
	defer d.cleanup(*keep)
	o := installOpts{root: root, user: demoUser(), tasks: DefaultTasks, shutdownSeconds: "2", startSeconds: "1", shutdownTimeout: 60,
		backup: true, quiesce: *quiesce}
	if o.port, err = freePort(); err != nil {
		fmt.Fprintln(stderr, "simdomino demo:", err)
		return 1
	}
	d.port = o.port
	if err := install(self, o, io.Discard); err != nil {
		fmt.Fprintln(stderr, "simdomino demo:", err)
		return 1
	}
	d.say("Simulated Domino installed in %s (user %s, %s tasks)\n", root, o.user, DefaultTasks)
	return d.run(o)
}

// buildQuiesce builds cmd/quiesce from the checkout the demo runs in.
func buildQuiesce(dir string, stdout io.Writer) (string, error) {
	out := filepath.Join(dir, "quiesce")
	fmt.Fprintln(stdout, "building quiesce ...")
	cmd := exec.Command("go", "build", "-o", out, "github.com/quiesce/quiesce/cmd/quiesce")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build quiesce (run the demo from the quiesce checkout, or pass --quiesce): %v\n%s", err, b)
	}
	return out, nil
}

// demoUser is the current user, or as root "notes" when it exists, else
// "nobody": the simulator, like Domino, does not run as root.
func demoUser() string {
	if os.Geteuid() != 0 {
		if cur, err := user.Current(); err == nil {
			return cur.Username
		}
		return "" // install reports why the current user cannot be found
	}
	if _, err := user.Lookup("notes"); err == nil {
		return "notes"
	}
	return "nobody"
}

func (d *demo) run(o installOpts) int {
	startWall, startOwn := d.step("start", timeline.StartRequested, timeline.Ready)
	d.quiesceCmd("status")
	d.snapshot("snapshot while running (what a plain hypervisor snapshot captures)")
	stopWall, stopOwn := d.step("stop", timeline.ShutdownRequested, timeline.Exited)
	ok := d.snapshot("snapshot while stopped by quiesce")
	d.step("start", timeline.StartRequested, timeline.Ready)
	d.quiesceCmd("status")
	d.step("stop", timeline.ShutdownRequested, timeline.Exited)
	d.say("\nTimeline            quiesce total   Domino's own   quiesce overhead")
	d.say("  start (to ready)  %-15s %-14s %+.3fs", secs(startWall), secs(startOwn), (startWall - startOwn).Seconds())
	d.say("  stop              %-15s %-14s %+.3fs", secs(stopWall), secs(stopOwn), (stopWall - stopOwn).Seconds())
	online := d.online(o)
	d.say("\nquiesce's JSON log: %s (removed with the demo unless --keep)", d.logFile)
	if d.failed || !ok || !online {
		d.say("\nDEMO FAILED")
		return 1
	}
	d.say("\nDemo OK: consistent snapshot while stopped, server serving again after start;")
	d.say("online, no outage at all and a snapshot that restores with its Domino Backup deltas.")
	return 0
}

// step runs one quiesce action and returns its wall time and the
// simulator's own time for it (from its timeline).
func (d *demo) step(action, from, to string) (wall, own time.Duration) {
	began := time.Now()
	d.quiesceCmd(action)
	wall = time.Since(began)
	events, err := timeline.Read(d.l.data)
	if err == nil {
		own, _ = timeline.Span(events, from, to, began)
	}
	return wall, own
}

// quiesceCmd runs quiesce, shows its output and returns it.
func (d *demo) quiesceCmd(args ...string) string {
	cfg := d.config
	if cfg == "" {
		cfg = d.l.sysconfig
	}
	d.say("$ quiesce --config %s %s", cfg, strings.Join(args, " "))
	cmd := exec.Command(d.quiesce, append([]string{"--config", cfg, "--log-file", d.logFile,
		"--state-dir", filepath.Join(d.l.root, "state")}, args...)...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	for _, line := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		d.say("  %s", line)
	}
	if err != nil {
		d.say("  (exit code %d)", cmd.ProcessState.ExitCode())
		d.failed = true
	}
	return buf.String()
}

// snapshot copies the data directory, as a hypervisor snapshot would
// capture it now, and judges the copy.
func (d *demo) snapshot(title string) bool {
	dst := filepath.Join(d.l.root, "snapshot-"+fmt.Sprint(time.Now().UnixNano()))
	if err := snapshot.Copy(d.l.data, dst); err != nil {
		d.say("snapshot failed: %v", err)
		d.failed = true
		return false
	}
	r, err := nsf.Verify(dst)
	switch {
	case err != nil:
		d.say("%s: %v", title, err)
		return false
	case r.Consistent():
		d.say("%s: CONSISTENT, %d of %d databases closed cleanly", title, r.Checked, r.Checked)
		return true
	}
	d.say("%s: INCONSISTENT, %d of %d databases open (%s)", title, len(r.Dirty), r.Checked, strings.Join(r.Dirty, ", "))
	return false
}

func (d *demo) cleanup(keep bool) {
	if keep {
		d.say("kept %s", d.l.root)
		return
	}
	_ = os.RemoveAll(d.l.root)
}

func (d *demo) say(format string, a ...any) { fmt.Fprintf(d.out, format+"\n", a...) }

func secs(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }
