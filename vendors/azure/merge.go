package azure

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/quiesce/quiesce/vendors/hook"
)

// marker identifies quiesce's record in a plugin configuration.
const marker = hook.Marker + " azure"

// ErrForeign: the plugin configuration exists and quiesce did not write it.
var ErrForeign = errors.New("not written by quiesce")

// Settings are what install azure puts into the plugin configuration.
type Settings struct {
	Pre, Post string        // the scripts
	Timeout   time.Duration // timeoutInSeconds; 0: keep the file's (30 s when it has none)
	Continue  *bool         // continueBackupOnFailure; nil: keep the file's (true when it has none)
	Merge     bool          // add quiesce to a file quiesce did not write
}

// sample is Microsoft's sample file: what a new plugin configuration gets
// besides quiesce's own keys.
func sample() [][2]any {
	return [][2]any{{keyPlugin, pluginName}, {keyPre, ""}, {keyPost, ""}, {keyPreParams, []string{}}, {keyPostParams, []string{}},
		{keyPreRetries, 0}, {keyPostRetries, 0}, {keyTimeout, int(DefaultTimeout / time.Second)}, {keyContinue, true}, {keyFSFreeze, true}}
}

// Merge returns the plugin configuration with quiesce's scripts in it,
// and one line per key it changed. o is the file as it is (nil: none).
// A file quiesce did not write is refused unless s.Merge; its other keys
// are kept, and what quiesce replaces is recorded so that Unmerge puts it
// back.
func Merge(o *Object, s Settings, path string) (*Object, []string, error) {
	rec, ours, fresh := Record{}, false, o == nil
	if o != nil {
		rec, ours = o.Ours()
	}
	switch {
	case o == nil:
		o = &Object{vals: map[string]json.RawMessage{}}
		for _, kv := range sample() {
			o.Set(kv[0].(string), raw(kv[1]))
		}
		rec = Record{Installed: marker, Created: true}
	case !ours && !s.Merge:
		return nil, nil, fmt.Errorf("%s exists and was %w (its pre-script: %q, post-script: %q); "+
			"pass --merge to add quiesce to it (its other keys are kept; 'quiesce uninstall azure' puts back what it replaces), or move it away",
			path, ErrForeign, o.String(keyPre), o.String(keyPost))
	case !ours:
		rec = Record{Installed: marker}
	}
	if rec.Wrote == nil {
		rec.Wrote = map[string]json.RawMessage{}
	}
	if rec.Before == nil {
		rec.Before = map[string]json.RawMessage{}
	}
	want := [][2]any{{keyPlugin, pluginName}, {keyPre, s.Pre}, {keyPost, s.Post}, {keyPreParams, []string{}}, {keyPostParams, []string{}}}
	if s.Timeout > 0 {
		want = append(want, [2]any{keyTimeout, int(s.Timeout / time.Second)})
	} else if _, ok := o.Get(keyTimeout); !ok {
		want = append(want, [2]any{keyTimeout, int(DefaultTimeout / time.Second)})
	}
	if s.Continue != nil {
		want = append(want, [2]any{keyContinue, *s.Continue})
	} else if _, ok := o.Get(keyContinue); !ok {
		want = append(want, [2]any{keyContinue, true})
	}
	var changed []string
	for _, kv := range want {
		k, v := kv[0].(string), raw(kv[1])
		old, had := o.Get(k)
		if had && bytes.Equal(compact(old), v) {
			continue
		}
		if _, wrote := rec.Wrote[k]; !wrote && !rec.Created {
			if had {
				rec.Before[k] = old
			} // absent before: Unmerge deletes it
		}
		rec.Wrote[k] = v
		o.Set(k, v)
		if had && !fresh {
			changed = append(changed, fmt.Sprintf("%s: %s (was %s)", k, v, compact(old)))
		} else {
			changed = append(changed, fmt.Sprintf("%s: %s", k, v))
		}
	}
	if len(rec.Before) == 0 {
		rec.Before = nil
	}
	o.Set(keyMarker, raw(rec))
	return o, changed, nil
}

// Unmerge takes quiesce out of the plugin configuration: each key quiesce
// wrote and nobody changed since is put back as it was (or removed, when
// it was not there), and the marker goes. remove is true when quiesce
// created the file and nothing else is left in it: the file itself goes.
func Unmerge(o *Object, path string) (out *Object, remove bool, changed []string, err error) {
	rec, ours := o.Ours()
	if !ours {
		return nil, false, nil, fmt.Errorf("%s was %w; not touching it", path, ErrForeign)
	}
	o.Delete(keyMarker)
	keys := make([]string, 0, len(rec.Wrote))
	for k := range rec.Wrote {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		wrote := rec.Wrote[k]
		cur, has := o.Get(k)
		if !has || !bytes.Equal(compact(cur), compact(wrote)) {
			changed = append(changed, fmt.Sprintf("%s: left as it is (changed since install)", k))
			continue
		}
		if before, ok := rec.Before[k]; ok {
			o.Set(k, before)
			changed = append(changed, fmt.Sprintf("%s: put back %s", k, compact(before)))
		} else if !rec.Created {
			o.Delete(k)
			changed = append(changed, k+": removed")
		}
	}
	if rec.Created && onlySample(o, rec) {
		return nil, true, changed, nil
	}
	if rec.Created { // someone added to the file: keep it, without quiesce's scripts
		for _, k := range []string{keyPre, keyPost} {
			if v, ok := o.Get(k); ok && bytes.Equal(compact(v), compact(rec.Wrote[k])) {
				o.Set(k, raw(""))
			}
		}
	}
	return o, false, changed, nil
}

// onlySample reports whether a file quiesce created holds nothing but
// what quiesce wrote into it.
func onlySample(o *Object, rec Record) bool {
	base := map[string]json.RawMessage{}
	for _, kv := range sample() {
		base[kv[0].(string)] = raw(kv[1])
	}
	for k, v := range rec.Wrote {
		base[k] = v
	}
	for _, k := range o.Keys() {
		v, _ := o.Get(k)
		if b, ok := base[k]; !ok || !bytes.Equal(compact(v), compact(b)) {
			return false
		}
	}
	return true
}

func compact(b []byte) []byte {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return b
	}
	return out.Bytes()
}
