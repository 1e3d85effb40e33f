package hook

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Marker is the line that identifies a hook file quiesce installed.
const Marker = "installed by quiesce install"

// ErrNotOurs: a file is in the way that quiesce did not install.
var ErrNotOurs = errors.New("not installed by quiesce")

// Placeholder in shim templates for the quiesce binary's path.
const Placeholder = "@QUIESCE@"

// Render fills the binary path, and the global options the hook passes
// (at most one Options), into a shim template.
func Render(tmpl []byte, binary string, opts ...Options) []byte {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	rendered := o.shell()
	if isBatch(tmpl) {
		rendered = o.batch()
	}
	out := bytes.ReplaceAll(tmpl, []byte(Placeholder), []byte(binary))
	return bytes.ReplaceAll(out, []byte(OptionsPlaceholder), []byte(rendered))
}

// InstallFile writes content to path as a regular file, mode 0755, owned
// by root when run as root. It is idempotent, and refuses to overwrite a
// file that does not carry the Marker. It returns what it did.
func InstallFile(path string, content []byte) (string, error) {
	return InstallFileMode(path, content, 0o755)
}

// InstallFileMode is InstallFile with the mode the caller demands (Nutanix
// and Google's agent: 0700, root only).
func InstallFileMode(path string, content []byte, mode os.FileMode) (string, error) {
	if !bytes.Contains(content, []byte(Marker)) {
		return "", fmt.Errorf("internal: hook content for %s lacks the marker", path)
	}
	old, err := os.ReadFile(path)
	switch {
	case err == nil && !bytes.Contains(old, []byte(Marker)):
		return "", fmt.Errorf("%s exists and was %w; move it away first", path, ErrNotOurs)
	case err == nil && bytes.Equal(old, content):
		return "already installed: " + path, ensureMode(path, mode)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	tmp := path + ".quiesce-new"
	if err := os.WriteFile(tmp, content, mode); err != nil {
		return "", err
	}
	if err := ensureMode(tmp, mode); err != nil {
		os.Remove(tmp)
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return "installed: " + path, nil
}

// ensureMode sets mode and, as root, owner root.
func ensureMode(path string, mode os.FileMode) error {
	if err := os.Chmod(path, mode); err != nil {
		return err
	}
	if os.Geteuid() == 0 {
		return os.Chown(path, 0, 0)
	}
	return nil
}

// RemoveFile removes a hook file quiesce installed; a missing file is fine.
func RemoveFile(path string) (string, error) {
	old, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "not installed: " + path, nil
	}
	if err != nil {
		return "", err
	}
	if !bytes.Contains(old, []byte(Marker)) {
		return "", fmt.Errorf("%s was %w; not removing it", path, ErrNotOurs)
	}
	if err := os.Remove(path); err != nil {
		return "", err
	}
	return "removed: " + path, nil
}

// Ours reports whether path is a hook file quiesce installed.
func Ours(path string) bool {
	b, err := os.ReadFile(path)
	return err == nil && strings.Contains(string(b), Marker)
}
