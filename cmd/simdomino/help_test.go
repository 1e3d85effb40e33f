//go:build linux

package main

import (
	"bytes"
	"strings"
	"testing"
)

// Every simdomino tool command answers --help and -h: exit 0, its help once
// on stdout, nothing on stderr, every flag described; a wrong flag exits 2
// with the error on stderr.
func TestToolHelp(t *testing.T) {
	flags := map[string][]string{
		"install": {"root", "user", "port", "tasks", "shutdown-seconds", "start-seconds", "shutdown-timeout", "backup", "backup-order", "restore-options"},
		"verify":  nil,
		"restore": {"data", "backup", "db", "to", "restore-name"},
		"demo":    {"quiesce", "keep"},
		"":        {},
	}
	var usage bytes.Buffer
	runTool("/nonexistent/simdomino", []string{"simdomino", "help"}, &usage, &usage)
	for _, want := range []string{"--backup-order start|snapshot", "SimBackupOrder", "simdomino restore "} {
		if !strings.Contains(usage.String(), want) {
			t.Errorf("simdomino's help does not name %s:\n%s", want, usage.String())
		}
	}
	for cmd, names := range flags {
		for _, h := range []string{"--help", "-h"} {
			args := []string{"simdomino", h}
			if cmd != "" {
				args = []string{"simdomino", cmd, h}
			}
			var out, errb bytes.Buffer
			code := runTool("/nonexistent/simdomino", args, &out, &errb)
			help := out.String()
			if code != 0 || errb.Len() != 0 || strings.Count(help, "usage:") != 1 {
				t.Errorf("%v: exit %d stdout %q stderr %q", args, code, help, errb.String())
			}
			if cmd != "" && !strings.Contains(help, "simdomino "+cmd+" ") {
				t.Errorf("%v: help does not name the command: %q", args, help)
			}
			for _, n := range names {
				if !strings.Contains(help, "  -"+n+" ") && !strings.Contains(help, "  -"+n+"\n") {
					t.Errorf("%v: flag -%s not described: %q", args, n, help)
				}
			}
		}
		if cmd == "" {
			continue
		}
		var out, errb bytes.Buffer
		if code := runTool("/nonexistent/simdomino", []string{"simdomino", cmd, "--bogus"}, &out, &errb); code != 2 ||
			!strings.Contains(errb.String(), "flag provided but not defined") || out.Len() != 0 {
			t.Errorf("%s --bogus: exit %d stdout %q stderr %q", cmd, code, out.String(), errb.String())
		}
	}
}
