package oslog

import "go.uber.org/zap/zapcore"

// Cores are the system's logs quiesce writes to besides its file: on
// Windows the Application event log, for warnings and errors. A log that
// cannot be opened is skipped; the error says why.
func Cores() ([]zapcore.Core, error) {
	l, err := OpenEventLog()
	if err != nil {
		return nil, err
	}
	return []zapcore.Core{NewEventLog(l)}, nil
}
