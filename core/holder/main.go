package holder

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/clock"
)

// Main is the body of a holder process (quiesce's hidden hold command):
// its Spec on standard input, the result pipe and the control socket on
// FDResult and FDControl (see Launcher.Start). kinds gives each kind's
// Lock.
func Main(ctx context.Context, stdin io.Reader, kinds func(kind string) Factory, log *zap.Logger, c clock.Clock) error {
	var spec Spec
	if err := json.NewDecoder(io.LimitReader(stdin, 1<<20)).Decode(&spec); err != nil {
		return fmt.Errorf("hold: reading what to hold: %w (the hold command is started by a freeze)", err)
	}
	result := os.NewFile(FDResult, "result")
	if result == nil {
		return fmt.Errorf("hold: no result pipe on fd %d (the hold command is started by a freeze)", FDResult)
	}
	newLock := kinds(spec.Kind)
	if newLock == nil {
		return fmt.Errorf("hold: no database kind %q", spec.Kind)
	}
	lock, err := newLock(spec.Conn, log)
	if err != nil {
		_, _ = fmt.Fprintf(result, "{\"error\":%q,\"class\":%q}\n", err.Error(), ClassOther)
		result.Close()
		return err
	}
	var ln net.Listener
	if spec.Op == OpHold {
		f := os.NewFile(FDControl, "control")
		if f == nil {
			return fmt.Errorf("hold: no control socket on fd %d", FDControl)
		}
		ln, err = net.FileListener(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("hold: control socket: %w", err)
		}
	}
	return Serve(ctx, spec, lock, result, ln, log, c)
}
