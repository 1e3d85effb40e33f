package domino

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/quiesce/quiesce/core/config"
)

// VSSTask is the server task of Domino's own VSS writer (Domino 12.0.2 and
// later on Windows): with it, a VSS-aware caller (Veeam's
// application-aware processing, VMware Tools' VSS quiescing) gets a
// consistent Domino without any stop.
const VSSTask = "backupvss"

// VSSWriterConfigured reports whether notes.ini in the data directory
// loads the VSS writer task at start (ServerTasks). It says what is
// configured, not that the writer works: that only the caller's VSS
// requestor sees.
func VSSWriterConfigured(data string) bool {
	f, err := os.Open(filepath.Join(data, "notes.ini"))
	if err != nil {
		return false
	}
	defer f.Close()
	return vssWriterIn(f)
}

// vssWriterIn is VSSWriterConfigured of notes.ini's content.
func vssWriterIn(r io.Reader) bool {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "ServerTasks") {
			continue
		}
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), VSSTask) {
				return true
			}
		}
	}
	return false
}

// StandsAside reports whether quiesce leaves Domino to its VSS writer for
// caller: the configuration says so for that caller (vss_stand_aside) and
// notes.ini loads the writer. why is the line to show either way ("" when
// neither is set).
func StandsAside(cfg config.File, caller string) (aside bool, why string) {
	vssAware := false
	for _, c := range config.VSSCallers {
		vssAware = vssAware || c == caller
	}
	if !vssAware {
		return false, ""
	}
	writer := VSSWriterConfigured(cfg.Data)
	listed := false
	for _, c := range cfg.VSSStandAside {
		listed = listed || c == caller
	}
	switch {
	case listed && writer:
		return true, "Domino's VSS writer (" + VSSTask + " in ServerTasks) makes the snapshot consistent: quiesce stands aside for " + caller + " (vss_stand_aside); the caller must use VSS"
	case listed:
		return false, "vss_stand_aside names " + caller + " but notes.ini does not load " + VSSTask + " (ServerTasks): quiesce stops Domino"
	case writer:
		return false, "Domino's VSS writer (" + VSSTask + ") is configured: a VSS-aware " + caller + " needs no stop; set vss_stand_aside = " + caller + " to let quiesce stand aside"
	}
	return false, ""
}
