//go:build !windows

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/quiesce/quiesce/cmd/simdomino/nrpcwatch"
	"github.com/quiesce/quiesce/cmd/simdomino/nsf"
	"github.com/quiesce/quiesce/cmd/simdomino/snapshot"
)

// onlineConfig is quiesce's own configuration for the online part of the
// demo: the same server, frozen through Domino Backup's snapshot mode.
func (d *demo) onlineConfig(o installOpts) (string, error) {
	path := filepath.Join(d.l.root, "quiesce.conf")
	body := fmt.Sprintf("[domino]\nuser = %s\nlotus = %s\ndata = %s\nmethod = online\ndelta_dir = %s\n\n[freeze]\nstate_dir = %s\n",
		o.user, d.l.lotus, d.l.data, deltaDirOf(d.l, o), filepath.Join(d.l.root, "state"))
	return path, os.WriteFile(path, []byte(body), 0o644)
}

var demoBackupID = regexp.MustCompile(`Domino Backup (\d{14})`)

// online freezes the running server online (VMware's freeze and thaw),
// while a client connects to its NRPC port over and over, and shows that
// nobody saw an outage and that the snapshot restores with its deltas.
func (d *demo) online(o installOpts) bool {
	cfg, err := d.onlineConfig(o)
	if err != nil {
		d.say("online: %v", err)
		return false
	}
	d.say("\nOnline: the same server frozen through Domino Backup's snapshot mode (%s: method = online)\n", cfg)
	d.config = cfg
	defer func() { d.config = "" }()
	d.quiesceCmd("start")
	client := nrpcwatch.Start(d.port)
	out := d.quiesceCmd("vmware", "freeze")
	copyDir := filepath.Join(d.l.root, "snapshot-online")
	serr := snapshot.Copy(d.l.data, copyDir)
	d.quiesceCmd("vmware", "thaw")
	ok, refused, slow := client.Stop()
	d.say("NRPC connections during the online cycle: %d accepted, %d refused (an outage is a refused one)", ok, refused)
	if slow > 0 {
		d.say("  (%d more took over a second to answer: a busy machine, the server was listening)", slow)
	}
	m := demoBackupID.FindStringSubmatch(out)
	switch {
	case serr != nil:
		d.say("snapshot failed: %v", serr)
		return false
	case m == nil:
		d.say("online freeze reported no Domino Backup identity")
		return false
	}
	restored := d.restoreOnline(copyDir, o, m[1])
	d.quiesceCmd("stop")
	return restored && refused == 0
}

// restoreOnline judges the online snapshot: alone its databases are open
// (they were being written), restored with the deltas Domino wrote for
// that backup they are consistent.
func (d *demo) restoreOnline(copyDir string, o installOpts, id string) bool {
	if r, err := nsf.Verify(copyDir); err == nil && !r.Consistent() {
		d.say("online snapshot alone: %d of %d databases open (Domino kept writing, as it should)", len(r.Dirty), r.Checked)
	}
	// VerifyWithDeltas restores in place: judge a scratch copy.
	scratch := copyDir + "-restored"
	if err := snapshot.Copy(copyDir, scratch); err != nil {
		d.say("online snapshot: %v", err)
		return false
	}
	copyDir = scratch
	deltas, _ := filepath.Glob(filepath.Join(deltaDirOf(d.l, o), "*", "SNAP", id))
	if len(deltas) != 1 {
		d.say("online snapshot: no deltas of backup %s under %s", id, deltaDirOf(d.l, o))
		return false
	}
	r, err := nsf.VerifyWithDeltas(copyDir, deltas[0])
	if err != nil || !r.Report.Consistent() {
		d.say("online snapshot + deltas of backup %s: NOT restorable (%v)", id, err)
		return false
	}
	d.say("online snapshot + deltas of backup %s: CONSISTENT, %d databases restored", id, r.Applied)
	return true
}
