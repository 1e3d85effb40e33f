package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/manifest"
	"github.com/quiesce/quiesce/core/online"
)

// verifyCommand judges a restore point by the manifests quiesce's
// freezes wrote before the cut (core/manifest): one line per instance,
// exit 0 when every one is a consistent snapshot.
func verifyCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "say whether a restore point (a mounted copy) is a consistent snapshot, and of what and when, by the manifest quiesce wrote before the cut",
		ArgsUsage: "DIR (the restore point, or the data directory in it)",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "deltas", Usage: "where the .DELTA files of an online snapshot's backup are (default: where the manifest says Domino writes them)"}},
		Action:    e.verifyAction,
	}
}

// manifestDepth is how deep below DIR verify looks for manifests: a
// restore point mounted at DIR holds the data directory a few levels down
// (DIR/local/notesdata, DIR/<volume>/local/notesdata).
const manifestDepth = 6

func (e *env) verifyAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return &exitError{code: ExitUsage, msg: fmt.Sprintf("%s: verify takes one directory, the restore point (got %d arguments)", e.prog, c.NArg())}
	}
	dir := c.Args().First()
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return &exitError{code: ExitUsage, msg: fmt.Sprintf("%s: verify %s: not a directory", e.prog, dir)}
	}
	dirs := findManifests(dir)
	if len(dirs) == 0 {
		e.say("NOT CONSISTENT: %s: no quiesce snapshot manifest (%s) in it or below: not a copy taken during a quiesce freeze (taken while the application ran?)", dir, manifest.Name)
		return &exitError{code: ExitFailure}
	}
	bad := false
	for _, d := range dirs {
		line, ok := judge(d, c.String("deltas"))
		e.say("%s", line)
		bad = bad || !ok
	}
	if bad {
		return &exitError{code: ExitFailure}
	}
	return nil
}

// findManifests lists the directories at or below dir (links not
// followed, at most manifestDepth levels) that hold a manifest.
func findManifests(dir string) []string {
	var out []string
	root := filepath.Clean(dir)
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if strings.Count(strings.TrimPrefix(path, root), string(filepath.Separator)) > manifestDepth {
			return filepath.SkipDir
		}
		if st, err := os.Lstat(filepath.Join(path, manifest.Name)); err == nil && !st.IsDir() {
			out = append(out, path)
			return filepath.SkipDir // a data directory holds no other instance's
		}
		return nil
	})
	return out
}

// judge says in one line whether the copy in dir is a consistent snapshot
// by its manifest.
func judge(dir, deltas string) (string, bool) {
	m, err := manifest.Read(dir)
	if err != nil {
		return fmt.Sprintf("NOT CONSISTENT: %v", err), false
	}
	what := fmt.Sprintf("%s (%s) frozen by %s at %s", m.Instance, describeFreeze(m), frozenBy(m), m.Time.UTC().Format(time.RFC3339))
	if m.Method == online.Name {
		n, err := online.Judge(dir, m, deltas)
		if err != nil {
			return fmt.Sprintf("NOT CONSISTENT: %s, copy in %s: %v", what, dir, err), false
		}
		return fmt.Sprintf("consistent with its deltas: %s, copy in %s: exactly its tag file, %d .DELTA files", what, dir, n), true
	}
	var data func(string) bool
	if m.Kind == domino.TargetName {
		data = domino.IsDatabase
	}
	changes, err := manifest.Changes(dir, m, data)
	switch {
	case err != nil:
		return fmt.Sprintf("NOT CONSISTENT: %s, copy in %s: %v", what, dir, err), false
	case len(changes) > 0:
		var names []string
		for _, ch := range changes {
			names = append(names, ch.String())
		}
		if len(names) > 3 {
			names = append(names[:3], fmt.Sprintf("and %d more", len(changes)-3))
		}
		return fmt.Sprintf("NOT CONSISTENT: %s, copy in %s: %d files changed after the manifest (%s): copied while it ran", what, dir, len(changes), strings.Join(names, ", ")), false
	}
	return fmt.Sprintf("consistent: %s, copy in %s: %d files as they were when it was stopped", what, dir, len(m.Files)), true
}

func describeFreeze(m manifest.Manifest) string {
	if m.Method == online.Name {
		return "in backup mode of Domino Backup " + m.Backup
	}
	return m.Method
}

func frozenBy(m manifest.Manifest) string {
	if m.Job != "" {
		return m.Caller + " (job " + m.Job + ")"
	}
	return m.Caller
}
