//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// decodeStrict decodes one JSON value and fails on a key that appears
// twice in an object (encoding/json keeps the last silently). Numbers
// are reported to num with their key.
func decodeStrict(dec *json.Decoder, key string, num func(key string, v float64)) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch d := tok.(type) {
	case json.Delim:
		switch d {
		case '{':
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				k := kt.(string)
				if seen[k] {
					return fmt.Errorf("key %q twice", k)
				}
				seen[k] = true
				if err := decodeStrict(dec, k, num); err != nil {
					return err
				}
			}
		case '[':
			for dec.More() {
				if err := decodeStrict(dec, key, num); err != nil {
					return err
				}
			}
		}
		_, err = dec.Token() // the closing delimiter
		return err
	case json.Number:
		f, err := d.Float64()
		if err != nil {
			return err
		}
		num(key, f)
	}
	return nil
}

// Every line a full cycle writes is one JSON object without a duplicate
// key; quiesce's own PID is "pid" and the server's "server_pid"; every
// duration is in seconds (no nanosecond counts); stop phases use the same
// names as "stop phase done".
func TestLogLinesHaveOneNamePerMeaning(t *testing.T) {
	simtest.Slow(t)
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.2}, "")
	for _, args := range [][]string{{"start"}, {"status"}, {"vmware", "freeze"}, {"status"}, {"vmware", "thaw"},
		{"restart"}, {"qemu", "freeze"}, {"qemu", "thaw"}, {"stop"}, {"recover"}, {"check"}} {
		g.run(t, args...)
	}
	log := g.log(t)
	lines := strings.Split(strings.TrimSpace(log), "\n")
	if len(lines) < 30 {
		t.Fatalf("only %d log lines:\n%s", len(lines), log)
	}
	ids := map[string]bool{"pid": true, "server_pid": true, "uid": true, "code": true}
	var launched, phases int
	for i, line := range lines {
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		err := decodeStrict(dec, "", func(key string, v float64) {
			if !ids[key] && v >= 1e5 {
				t.Errorf("line %d: %s = %v is not in seconds: %s", i+1, key, v, line)
			}
		})
		if err == nil {
			if _, extra := dec.Token(); extra != io.EOF {
				err = fmt.Errorf("more than one value")
			}
		}
		if err != nil {
			t.Errorf("line %d: %v: %s", i+1, err, line)
			continue
		}
		var m map[string]any
		_ = json.Unmarshal([]byte(line), &m)
		switch m["msg"] {
		case "server launched":
			launched++
			if m["server_pid"] == nil || m["server_pid"] == m["pid"] {
				t.Errorf("line %d: the server's PID is not server_pid, apart from quiesce's pid: %s", i+1, line)
			}
		case "stop result":
			ps, _ := m["phases"].([]any)
			for _, p := range ps {
				obj, _ := p.(map[string]any)
				if _, ok := obj["phase"].(string); !ok || len(obj) != 2 || obj["took"] == nil {
					t.Errorf("line %d: phase %v: want {phase, took}", i+1, p)
				}
				phases++
			}
		}
	}
	if launched < 3 || phases == 0 {
		t.Fatalf("the cycle logged %d launches and %d stop phases:\n%s", launched, phases, log)
	}
	if bytes.Contains([]byte(log), []byte(`"Duration"`)) || bytes.Contains([]byte(log), []byte(`"Name"`)) {
		t.Fatal("Go field names in the log")
	}
}

// Every caller's one-line outcome starts the same way: "quiesce CALLER WORD: ".
func TestOneOutcomePrefixForAllCallers(t *testing.T) {
	missing := t.TempDir() + "/missing.conf"
	for _, c := range []struct{ caller, word string }{
		{"vmware", "freeze"}, {"vmware", "thaw"}, {"veeam", "pre-freeze"}, {"veeam", "post-thaw"},
		{"arcserve", "pre-snapshot"}, {"arcserve", "post-snapshot"}, {"qemu", "freeze"}, {"qemu", "thaw"},
	} {
		var out, errb bytes.Buffer
		code := run([]string{"quiesce", "--config", missing, c.caller, c.word}, stdio{out: &out, err: &errb})
		line := out.String() + errb.String()
		if want := "quiesce " + c.caller + " " + c.word + ": "; code == 0 || !strings.HasPrefix(line, want) || strings.Count(line, "\n") != 1 {
			t.Errorf("%s %s: exit %d, %q; want one line starting %q", c.caller, c.word, code, line, want)
		}
	}
}
