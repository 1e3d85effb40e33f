//go:build !windows

package oslog

import (
	"github.com/coreos/go-systemd/v22/journal"
	"go.uber.org/zap/zapcore"
)

// Cores are the system's logs quiesce writes to besides its file: the
// systemd journal when it runs (its socket answers), from info up.
func Cores() ([]zapcore.Core, error) {
	if !JournalAvailable() {
		return nil, nil
	}
	return []zapcore.Core{NewJournal(journal.Send, zapcore.InfoLevel)}, nil
}
