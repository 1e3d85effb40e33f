//go:build linux

package conformance

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// qemuHarness drives the real qemu-ga from Debian: started on a unix socket
// with -F<hook>, asked to freeze a tmpfs mountpoint made by the test (the
// hook runs; FIFREEZE on tmpfs is skipped) and to thaw.
type qemuHarness struct {
	conn      *bufio.ReadWriter
	raw       net.Conn
	mnt       string
	thawLimit time.Duration // Proxmox VE's wait for guest-fsfreeze-thaw; 0: 3 minutes
}

func (h *qemuHarness) Name() string { return "qemu" }

// startQemuGA starts qemu-ga with hook and returns a harness, or skips (or
// fails in CI) when qemu-ga or mounting is not possible here.
func startQemuGA(t *testing.T, hook string, env hookEnv) *qemuHarness {
	t.Helper()
	bin, err := exec.LookPath("qemu-ga")
	if err != nil {
		simtest.Require(t, false, "qemu-ga is not installed (apt-get install qemu-guest-agent)")
	}
	dir := t.TempDir()
	mnt := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m"); err != nil {
		simtest.Require(t, false, "cannot mount a tmpfs for qemu-ga to freeze: "+err.Error())
	}
	t.Cleanup(func() { _ = syscall.Unmount(mnt, syscall.MNT_DETACH) })
	sock := filepath.Join(dir, "qga.sock")
	if err := os.Mkdir(filepath.Join(dir, "state"), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-m", "unix-listen", "-p", sock, "-F"+hook, "-t", filepath.Join(dir, "state"),
		"-l", filepath.Join(dir, "qga.log"))
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var conn net.Conn
	for deadline := time.Now().Add(10 * time.Second); ; {
		if conn, err = net.Dial("unix", sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("qemu-ga did not open %s: %v", sock, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() { conn.Close() })
	h := &qemuHarness{conn: bufio.NewReadWriter(bufio.NewReader(conn), bufio.NewWriter(conn)), raw: conn, mnt: mnt}
	if _, err := h.call("guest-sync", map[string]any{"id": 7}); err != nil {
		t.Fatalf("guest-sync: %v", err)
	}
	return h
}

// call sends one QMP command and returns the "return" value or the error.
func (h *qemuHarness) call(name string, args map[string]any) (json.RawMessage, error) {
	return h.callWithin(name, args, time.Hour) // Proxmox VE waits up to an hour for a freeze
}

// callWithin is call with Proxmox VE's timeout for the command.
func (h *qemuHarness) callWithin(name string, args map[string]any, limit time.Duration) (json.RawMessage, error) {
	req := map[string]any{"execute": name}
	if args != nil {
		req["arguments"] = args
	}
	b, _ := json.Marshal(req)
	_ = h.raw.SetDeadline(time.Now().Add(limit))
	if _, err := h.conn.Write(append(b, '\n')); err != nil {
		return nil, err
	}
	if err := h.conn.Flush(); err != nil {
		return nil, err
	}
	line, err := h.conn.ReadBytes('\n')
	if err != nil {
		return nil, err
	}
	var resp struct {
		Return json.RawMessage `json:"return"`
		Error  *struct {
			Class string `json:"class"`
			Desc  string `json:"desc"`
		} `json:"error"`
	}
	if err := json.Unmarshal(line, &resp); err != nil {
		return nil, fmt.Errorf("%s: %w", line, err)
	}
	if resp.Error != nil {
		return nil, fmt.Errorf("%s: %s", resp.Error.Class, resp.Error.Desc)
	}
	return resp.Return, nil
}

func (h *qemuHarness) step(name, cmd string, args map[string]any, limit time.Duration) Step {
	ret, err := h.callWithin(cmd, args, limit)
	if err != nil {
		return Step{Name: name, Code: 1, Note: "qemu-ga error: " + err.Error()}
	}
	return Step{Name: name, OK: true, Note: "qemu-ga returned " + string(ret)}
}

func (h *qemuHarness) Freeze(t *testing.T) Step {
	return h.step("freeze", "guest-fsfreeze-freeze-list", map[string]any{"mountpoints": []string{h.mnt}}, time.Hour)
}

func (h *qemuHarness) Thaw(t *testing.T) Step {
	limit := h.thawLimit
	if limit == 0 {
		limit = 3 * time.Minute
	}
	return h.step("thaw", "guest-fsfreeze-thaw", nil, limit)
}
