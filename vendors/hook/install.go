package hook

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/quiesce/quiesce/core/config"
)

const isWindows = runtime.GOOS == "windows"

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
	if err := config.CheckDir(filepath.Dir(path)); err != nil {
		return "", fmt.Errorf("not installing into %s: %w", filepath.Dir(path), err)
	}
	old, err := ReadHook(path)
	switch {
	case err == nil && !bytes.Contains(old, []byte(Marker)):
		return "", fmt.Errorf("%s exists and was %w; move it away first", path, ErrNotOurs)
	case err == nil && bytes.Equal(old, content):
		if err := WriteAtomic(path, content, mode); err != nil { // mode and owner as they must be
			return "", err
		}
		return "already installed: " + path, nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", err
	}
	if err := WriteAtomic(path, content, mode); err != nil {
		return "", err
	}
	return "installed: " + path, nil
}

// maxHook bounds what is read of a file in a hook's place.
const maxHook = 1 << 20

// ReadHook reads the file at path, a hook or whatever is in a hook's
// place: never through a symbolic link, never blocking on a FIFO, only a
// regular file, at most 1 MiB.
func ReadHook(path string) ([]byte, error) {
	f, err := openNoFollow(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, st.Mode().Type())
	}
	b, err := io.ReadAll(io.LimitReader(f, maxHook+1))
	if err == nil && len(b) > maxHook {
		err = fmt.Errorf("%s is larger than %d bytes: not a hook file", path, maxHook)
	}
	return b, err
}

// WriteAtomic replaces path with content, mode mode, owned by root when
// run as root: a new file created exclusively beside it (never through a
// name someone planted), its mode and owner set on the open file, synced,
// then renamed over path, which replaces a symbolic link there rather
// than following it. The directory is created (0755) when missing.
func WriteAtomic(path string, content []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".quiesce-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing is there
	_, err = tmp.Write(content)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil && os.Geteuid() == 0 && !isWindows {
		err = tmp.Chown(0, 0)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	return err
}

// RemoveFile removes a hook file quiesce installed; a missing file is fine.
func RemoveFile(path string) (string, error) {
	old, err := ReadHook(path)
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
	b, err := ReadHook(path)
	return err == nil && strings.Contains(string(b), Marker)
}
