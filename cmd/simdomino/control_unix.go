//go:build !windows

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// serve runs the server in the foreground, as the launcher started it.
func serve(s *server, stderr io.Writer) int { return s.run(stderr) }

// controlName is the abstract unix socket the console commands use.
func controlName(dataDir string) string {
	abs, err := filepath.Abs(dataDir)
	if err == nil {
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
	}
	sum := sha256.Sum256([]byte(abs))
	return "@simdomino-" + hex.EncodeToString(sum[:16])
}

func listenControl(dataDir string) (net.Listener, error) {
	return net.Listen("unix", controlName(dataDir))
}

func dialControl(dataDir string) (net.Conn, error) {
	return net.DialTimeout("unix", controlName(dataDir), 5*time.Second)
}

// lockExclusive takes the data directory's lock without waiting.
func lockExclusive(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// unlockRemove removes the lock file, then releases the lock.
func unlockRemove(f *os.File) {
	_ = os.Remove(f.Name())
	f.Close()
}
