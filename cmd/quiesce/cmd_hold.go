package main

import (
	"os"

	"github.com/urfave/cli/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/quiesce/quiesce/core/engine"
	"github.com/quiesce/quiesce/core/holder"
)

// holdCommand is the hidden command a database freeze starts detached,
// as the database's OS user: it keeps the server's backup lock from the
// freeze to the thaw (core/holder). It reads what to hold on standard
// input (never the command line: it may hold a password), reports on the
// pipe the freeze gave it, and never writes to the caller's streams: it
// has none.
func holdCommand(e *env) *cli.Command {
	return &cli.Command{Name: "hold", Hidden: true, Usage: "keep a database's backup lock until the thaw (started by a freeze)",
		Action: func(c *cli.Context) error {
			methods := e.methods
			if methods == nil {
				methods = engine.Methods()
			}
			log := holderLog().With(zap.Int("pid", os.Getpid()), zap.String("role", "holder"))
			defer func() { _ = log.Sync() }()
			if err := holder.Main(c.Context, os.Stdin, methods.Lock, log, e.clock); err != nil {
				log.Error("hold ended", zap.Error(err))
				return &exitError{code: ExitFailure}
			}
			return nil
		}}
}

// holderLog writes quiesce's JSON log to the log file the freeze handed
// down; nothing when it gave none.
func holderLog() *zap.Logger {
	f := os.NewFile(holder.FDLog, "log")
	if f == nil {
		return zap.NewNop()
	}
	// Only a regular file is the log: with none handed down, the fd may
	// be anything the process opened since (a socket to the database).
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return zap.NewNop()
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	return zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.AddSync(f), zapcore.DebugLevel))
}

// holderLauncher starts "quiesce hold" from the running binary, with the
// log file open; none in in-process tests (no binary).
func (e *env) holderLauncher() holder.Launcher {
	return holder.Launcher{Path: e.io.self, Args: []string{"hold"}, Log: e.logFile}
}
