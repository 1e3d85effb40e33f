package azure

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"

	"github.com/quiesce/quiesce/scripts"
	"github.com/quiesce/quiesce/vendors/hook"
)

// DefaultDir is where install azure writes the scripts, next to the
// plugin configuration.
const DefaultDir = "/etc/azure"

// Script names in the script folder.
const (
	PreScript  = "quiesce-pre-script.sh"
	PostScript = "quiesce-post-script.sh"
)

// Modes the extension demands: the plugin configuration 600 (no execute
// bit, nothing for group and others), the scripts 700; all owned by root.
const (
	ConfigMode os.FileMode = 0o600
	ScriptMode os.FileMode = 0o700
)

// Script returns the script for op (pre or post), calling binary with
// opts and naming the plugin configuration at config.
func Script(op, binary, config string, opts ...hook.Options) []byte {
	b := hook.Render(scripts.Read("azure/"+op+"-script.sh"), binary, opts...)
	return bytes.ReplaceAll(b, []byte("@PLUGINCONFIG@"), []byte(shellQuote(config)))
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// WriteScript puts a script in place as the extension wants it: mode 700,
// owner root (when run as root), written beside and renamed over. It is
// idempotent and refuses a file quiesce did not write.
func WriteScript(path string, content []byte) (string, error) {
	return hook.InstallFileMode(path, content, ScriptMode)
}

// Setup is one install: where the plugin configuration and the scripts go.
type Setup struct {
	Config string // the plugin configuration
	Dir    string // the scripts' folder
	Settings
}

func (s Setup) pre() string  { return filepath.Join(s.Dir, PreScript) }
func (s Setup) post() string { return filepath.Join(s.Dir, PostScript) }

// Plan reads the plugin configuration and merges quiesce into it, without
// writing anything: a file quiesce may not touch fails here, before any
// script is written.
func (s Setup) Plan() (*Object, []string, bool, error) {
	old, err := readObject(s.Config)
	if err != nil {
		return nil, nil, false, err
	}
	s.Pre, s.Post = s.pre(), s.post()
	o, changed, err := Merge(old, s.Settings, s.Config)
	return o, changed, old == nil, err
}

// WriteConfig writes the merged plugin configuration, atomically, mode
// 600, owner root.
func (s Setup) WriteConfig(o *Object) error { return writeAtomic(s.Config, o.Marshal(), ConfigMode) }

// Remove takes quiesce out: the plugin configuration as it was before
// install (or no file, when install created it and nobody added to it),
// and the two scripts. It refuses a plugin configuration quiesce did not
// write.
func (s Setup) Remove() ([]string, error) {
	var out []string
	o, err := readObject(s.Config)
	switch {
	case err != nil:
		return nil, err
	case o == nil:
		out = append(out, "not installed: "+s.Config)
	default:
		left, remove, changed, err := Unmerge(o, s.Config)
		if err != nil {
			return nil, err
		}
		if remove {
			if err := os.Remove(s.Config); err != nil {
				return nil, err
			}
			out = append(out, "removed: "+s.Config+" (install azure had created it)")
		} else {
			if err := s.WriteConfig(left); err != nil {
				return nil, err
			}
			out = append(out, "restored: "+s.Config)
			for _, c := range changed {
				out = append(out, "  "+c)
			}
		}
	}
	for _, p := range []string{s.pre(), s.post()} {
		msg, err := hook.RemoveFile(p)
		if err != nil {
			return out, err
		}
		out = append(out, msg)
	}
	return out, nil
}
