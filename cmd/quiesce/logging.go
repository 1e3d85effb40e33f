package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/oslog"
)

// defaultLogFile is %ProgramData%\quiesce\quiesce.log on Windows,
// /var/log/quiesce/quiesce.log as root, otherwise quiesce.log in the
// application's data directory.
func defaultLogFile(cfg config.File) string {
	if runtime.GOOS == "windows" {
		return filepath.Join(os.Getenv("ProgramData"), "quiesce", "quiesce.log")
	}
	if os.Geteuid() == 0 {
		return "/var/log/quiesce/quiesce.log"
	}
	return filepath.Join(cfg.Data, "quiesce.log")
}

// openLog sets up the JSON log, and the system's own log beside it (the
// systemd journal; on Windows the Application event log for warnings and
// errors). A log that cannot be opened is kept for check and status (and
// the system log), never put on the caller's stream, and the operation
// goes on: a backup must not fail for it.
func (e *env) openLog(flag string, cfg config.File) {
	path := flag
	if path == "" {
		path = cfg.LogFile
	}
	if path == "" {
		path = defaultLogFile(cfg)
	}
	cores, err := oslog.Cores()
	if err != nil {
		e.logProblem = fmt.Sprintf("%v (system log not written)", err)
	}
	f, err := openLogFile(path)
	if err != nil {
		// Not on the caller's stream: there the operation's own outcome
		// must come first and alone (Veeam shows, and fails on, the first
		// line). The system log has it, and check and status say it.
		e.logProblem = strings.TrimPrefix(e.logProblem+"; ", "; ") + fmt.Sprintf("cannot open log file %s: %v (logging to the file disabled)", path, err)
		if len(cores) > 0 {
			e.log = zap.New(zapcore.NewTee(cores...)).With(zap.Int("pid", os.Getpid()))
		}
		e.log.Warn(e.logProblem)
		return
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	file := zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.AddSync(f), zapcore.DebugLevel)
	e.log = zap.New(zapcore.NewTee(append([]zapcore.Core{file}, cores...)...)).With(zap.Int("pid", os.Getpid()))
	e.logPath, e.logFile = path, f
	e.logClose = func() { _ = e.log.Sync(); f.Close() }
	if e.logProblem != "" {
		e.log.Warn(e.logProblem)
	}
}

// openLogFile opens path for appending: directory 0700 and file 0600 when
// quiesce creates them. The log may be in a directory another user writes
// (a non-root quiesce logs into the data directory; a configuration may
// name any file): a link there is not followed, and only a regular file
// of quiesce's own user with no second name is appended to (openAppend).
func openLogFile(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return openAppend(path)
}
