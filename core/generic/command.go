package generic

import (
	"context"
	"os/exec"

	"github.com/quiesce/quiesce/core/runas"
)

// commandMaker builds readiness commands as the application's user.
func (t *Target) commandMaker() func(ctx context.Context, args []string) *exec.Cmd {
	return func(ctx context.Context, args []string) *exec.Cmd {
		if t.acct == nil {
			return exec.CommandContext(ctx, args[0], args[1:]...)
		}
		return runas.CommandContext(ctx, *t.acct, "/", args[0], args[1:]...)
	}
}
