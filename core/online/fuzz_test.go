package online

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Fuzz targets of what the Domino side reads: the status file and Domino
// Backup's arguments. Seeds: the files quiesce and HCL's scripts write,
// the arguments simdomino passes, and testdata/fuzz/. "make fuzz" fuzzes
// them longer.

// FuzzStatusDecode: any status file (as much of it as ReadStatus reads)
// decodes; what quiesce writes back of it decodes to the same status; the
// file quiesce writes is no longer than what it read, give or take its own
// lines.
func FuzzStatusDecode(f *testing.F) {
	for _, s := range []Status{
		{State: Requested, Token: NewToken()},
		{State: DominoDone, Token: "t", Backup: "20260101120000", Note: "every database in backup mode"},
		{State: Complete, Token: "t", Backup: "20260101120000", Deltas: "/local/backup/nsf/node/SNAP/20260101120000", Count: 3, Note: "backup mode ended; deltas written"},
		{State: Cancelled, Token: "t", Note: "no snapshot within 1m40s: backup failed"},
	} {
		f.Add(s.encode())
	}
	for _, s := range []string{"REQUESTED\n", "DOMINO-DONE", "DONE\r\n", "", "\n\ntoken=x\n"} { // HCL's scripts write the state alone
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxStatusSize {
			data = data[:maxStatusSize] // ReadStatus reads no more
		}
		s := decode(data)
		if strings.ContainsAny(s.State, "\n") || s.State != strings.TrimSpace(s.State) {
			t.Fatalf("state %q is not one trimmed line", s.State)
		}
		out := s.encode()
		if len(out) > len(data)+headerRoom {
			t.Fatalf("%d bytes read, %d written", len(data), len(out))
		}
		back := decode(out)
		want := s
		want.Token, want.Backup, want.Deltas, want.Note = oneLine(s.Token), oneLine(s.Backup), oneLine(s.Deltas), oneLine(s.Note)
		want.Count = max(s.Count, 0)
		if time.Since(back.Updated) > time.Hour || back.Updated.After(time.Now()) {
			t.Fatalf("written at %v", back.Updated)
		}
		back.Updated, want.Updated = time.Time{}, time.Time{}
		if back != want {
			t.Fatalf("written and read back:\n%+v\nwant\n%+v", back, want)
		}
	})
}

// headerRoom is what encode adds to the values it writes: the comment
// line, the key names and the time of writing.
const headerRoom = 200

var digits = regexp.MustCompile(`^[0-9]{8,20}$`)

// FuzzParseArgs: Domino Backup's arguments (separated by NUL here) are
// taken only as 8 or 9 (a restore command: 9) with BackupStartDT a backup
// time; then every field is the argument as given, the delta directory
// ends in BackupStartDT and the tag file stays in the data directory.
func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{
		"\x00\x00\x00SimServer\x00SimServer/SimOrg\x00SNAP\x0020260101000000\x00/local/backup/nsf",
		"/local/notesdata/mail/a.nsf\x00mail/a.nsf\x00ref\x00node\x00Srv/Org\x00SNAP\x0020260101120000\x00/backup\x00restore.nsf",
		"\x00\x00\x00n\x00s\x00SNAP\x00../../etc\x00/b",
		"a",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, joined string, restore bool) {
		in := strings.Split(joined, "\x00")
		a, err := ParseArgs(in, restore)
		if err != nil {
			if !strings.Contains(err.Error(), "arguments") && !strings.Contains(err.Error(), "BackupStartDT") {
				t.Fatalf("error %q says neither what nor where", err)
			}
			return
		}
		if (len(in) != 8 || restore) && len(in) != 9 {
			t.Fatalf("%d arguments accepted (restore %v)", len(in), restore)
		}
		got := []string{a.PhysicalFileName, a.FileName, a.BackupReference, a.BackupNode, a.BackupName, a.BackupMode, a.BackupStartDT, a.BackupTargetDir}
		switch {
		case len(in) == 9 && restore:
			got = append(got, a.RestoreFileName)
		case len(in) == 9:
			got = append(got, a.RetentionDays)
		}
		if strings.Join(got, "\x00") != joined {
			t.Fatalf("arguments %q read as %+v", in, a)
		}
		if !digits.MatchString(a.BackupStartDT) || filepath.Base(a.DeltaDir()) != a.BackupStartDT {
			t.Fatalf("BackupStartDT %q accepted, delta directory %q", a.BackupStartDT, a.DeltaDir())
		}
		data := filepath.Join("data", "dir")
		if tag := tagPath(data, a.BackupStartDT); filepath.Dir(tag) != data {
			t.Fatalf("tag file %q is not in %q", tag, data)
		}
	})
}
