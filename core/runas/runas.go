// Package runas runs commands as the application's own OS user, dropping
// privileges when quiesce runs as root. Commands are always argument lists:
// nothing is passed through a shell.
package runas

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
)

// ErrUnknownUser means the configured user does not exist.
var ErrUnknownUser = errors.New("no such user")

// ErrPermission means quiesce cannot act as the configured user.
var ErrPermission = errors.New("permission denied")

// Account is an OS user commands run as.
type Account struct {
	Name   string
	UID    int
	GID    int
	Groups []int
	Home   string
}

// Lookup resolves a user name.
func Lookup(name string) (Account, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return Account{}, fmt.Errorf("%s: %w", name, ErrUnknownUser)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	a := Account{Name: u.Username, UID: uid, GID: gid, Home: u.HomeDir}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.Atoi(id); err == nil {
				a.Groups = append(a.Groups, g)
			}
		}
	}
	return a, nil
}

// CanActAs reports, as an error wrapping ErrPermission, when the current
// process can neither switch to a nor already is a.
func CanActAs(a Account) error {
	euid := os.Geteuid()
	if euid == 0 || euid == a.UID || euid == -1 {
		return nil
	}
	return fmt.Errorf("running as uid %d, cannot act as %s (uid %d): run as root or as %s: %w", euid, a.Name, a.UID, a.Name, ErrPermission)
}

// Command returns a command that runs name with args as a, in dir, in a
// session of its own so that it outlives quiesce and no terminal signal
// reaches it.
func Command(a Account, dir, name string, args ...string) *exec.Cmd {
	return CommandContext(context.Background(), a, dir, name, args...)
}

// CommandContext is Command, killed when ctx ends.
func CommandContext(ctx context.Context, a Account, dir, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	setUser(cmd, a)
	return cmd
}
