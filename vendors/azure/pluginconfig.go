package azure

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/vendors/hook"
)

// The plugin configuration the Azure VM backup extension reads
// (Azure/azure-linux-extensions VMBackup/main/ScriptRunner.py): a JSON
// object whose keys it looks up one by one; keys it does not know are
// ignored, which is where quiesce keeps its marker.
const (
	keyPlugin      = "pluginName"
	keyPre         = "preScriptLocation"
	keyPost        = "postScriptLocation"
	keyPreParams   = "preScriptParams"
	keyPostParams  = "postScriptParams"
	keyPreRetries  = "preScriptNoOfRetries"
	keyPostRetries = "postScriptNoOfRetries"
	keyTimeout     = "timeoutInSeconds"
	keyContinue    = "continueBackupOnFailure"
	keyFSFreeze    = "fsFreezeEnabled"
	keyMarker      = "quiesce" // quiesce's own record: what it wrote and what was there
	pluginName     = "ScriptRunner"
)

// Object is a JSON object that keeps its keys in the order of the file, so
// that a merge changes only the keys it sets.
type Object struct {
	keys []string
	vals map[string]json.RawMessage
}

// ParseObject reads a JSON object, keeping key order.
func ParseObject(b []byte) (*Object, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	o := &Object{vals: map[string]json.RawMessage{}}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		o.Set(tok.(string), v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return o, nil
}

// Get returns a key's raw value.
func (o *Object) Get(k string) (json.RawMessage, bool) {
	v, ok := o.vals[k]
	return v, ok
}

// Set sets a key, appending it when new.
func (o *Object) Set(k string, v json.RawMessage) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

// Delete removes a key.
func (o *Object) Delete(k string) {
	if _, ok := o.vals[k]; !ok {
		return
	}
	delete(o.vals, k)
	for i, key := range o.keys {
		if key == k {
			o.keys = append(o.keys[:i], o.keys[i+1:]...)
			break
		}
	}
}

// Keys lists the keys in order.
func (o *Object) Keys() []string { return append([]string(nil), o.keys...) }

// Marshal writes the object indented, one key a line, in order.
func (o *Object) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString("{\n")
	for i, k := range o.keys {
		name := raw(k)
		var v bytes.Buffer
		if err := json.Indent(&v, o.vals[k], "    ", "    "); err != nil {
			v.Reset()
			v.Write(o.vals[k])
		}
		fmt.Fprintf(&b, "    %s : %s", name, v.Bytes())
		if i < len(o.keys)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("}\n")
	return b.Bytes()
}

// raw is v as JSON. &, < and > stay as they are (json.Marshal writes
// them as \u0026...): a value quiesce records and puts back, or writes
// again, keeps the bytes the file had.
func raw(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // only plain values are marshalled here
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// Timeout reads timeoutInSeconds as the extension does: capped at
// MaxTimeout (its plugin host's limit); false when the key is missing or
// not a positive number.
func (o *Object) Timeout() (time.Duration, bool) {
	v, ok := o.Get(keyTimeout)
	if !ok {
		return 0, false
	}
	var secs float64
	if err := json.Unmarshal(v, &secs); err != nil || secs <= 0 {
		return 0, false
	}
	if secs >= MaxTimeout.Seconds() {
		return MaxTimeout, true // capped before it is converted: 1e10 s overflows a time.Duration
	}
	d := time.Duration(secs * float64(time.Second))
	return d, d > 0
}

// String reads a string key ("" when missing or not a string).
func (o *Object) String(k string) string {
	var s string
	if v, ok := o.Get(k); ok {
		_ = json.Unmarshal(v, &s)
	}
	return s
}

// Bool reads a boolean key; def when missing or not a boolean.
func (o *Object) Bool(k string, def bool) bool {
	b := def
	if v, ok := o.Get(k); ok {
		if err := json.Unmarshal(v, &b); err != nil {
			return def
		}
	}
	return b
}

// Record is what quiesce keeps in the file under its marker key: the
// values it wrote, and the values those keys had before (absent keys are
// not in Before), so that uninstall reverses exactly its own change.
type Record struct {
	Installed string                     `json:"installed"`
	Created   bool                       `json:"created"` // the file did not exist before install
	Wrote     map[string]json.RawMessage `json:"wrote"`
	Before    map[string]json.RawMessage `json:"before,omitempty"`
}

// Ours returns quiesce's record in the file, if it wrote it.
func (o *Object) Ours() (Record, bool) {
	v, ok := o.Get(keyMarker)
	if !ok {
		return Record{}, false
	}
	var r Record
	if err := json.Unmarshal(v, &r); err != nil || r.Installed != marker {
		return Record{}, false
	}
	return r, true
}

// readObject reads the plugin configuration at path; nil, nil when there
// is none.
func readObject(path string) (*Object, error) {
	b, err := hook.ReadHook(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	o, err := ParseObject(b)
	if err != nil {
		return nil, fmt.Errorf("%s is not a JSON object the backup extension can read: %w", path, err)
	}
	return o, nil
}

// writeAtomic replaces path with b: a temporary file in the same folder,
// mode, owner root (when run as root), synced, then renamed over path, and
// the folder synced. A reader sees the old file or the new one, never
// half of it.
func writeAtomic(path string, b []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := config.CheckDir(dir); err != nil {
		return fmt.Errorf("not writing into %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".quiesce-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if _, err := f.Write(b); err != nil {
		return fail(err)
	}
	if err := f.Chmod(mode); err != nil {
		return fail(err)
	}
	if os.Geteuid() == 0 {
		if err := f.Chown(0, 0); err != nil {
			return fail(err)
		}
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
