// Package proc finds the processes that belong to a target, waits for them
// to exit and signals them, identifying each by PID and start time so that a
// reused PID is never mistaken for one of ours.
package proc

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// Proc is one process as seen at scan time.
type Proc struct {
	PID   int32
	Start int64  // start time, milliseconds since the epoch: with PID, the identity
	UID   int32  // owner on Unix; -1 on Windows
	Owner string // owner on Windows, DOMAIN\user (read only when a Matcher names an account)
	Exe   string // resolved executable path
	Name  string // base name of Exe
	Comm  string // the kernel's process name (what ps shows)
}

func (p Proc) String() string { return fmt.Sprintf("%s[%d]", p.Name, p.PID) }

// StartTime returns Start as a time.Time.
func (p Proc) StartTime() time.Time { return time.UnixMilli(p.Start) }

// Matcher selects the processes of a target: owned by UID (unless UID is
// negative) or, on Windows, by Account (unless empty), running an
// executable under one of Prefixes (when given) and named one of Names
// (when given: the executable's base name or the kernel's process name).
type Matcher struct {
	UID      int32
	Account  string // Windows account, "DOMAIN\user" or "user"; "" for any
	Prefixes []string
	Names    []string
}

// Match reports whether p belongs to the target.
func (m Matcher) Match(p Proc) bool {
	if m.UID >= 0 && p.UID != m.UID {
		return false
	}
	if m.Account != "" && !SameAccount(p.Owner, m.Account) {
		return false
	}
	return (len(m.Prefixes) == 0 || m.MatchPath(p.Exe)) && m.MatchName(p.Name, p.Comm)
}

// MatchName reports whether one of names is in m.Names (true when m has
// no names).
func (m Matcher) MatchName(names ...string) bool {
	if len(m.Names) == 0 {
		return true
	}
	for _, want := range m.Names {
		for _, n := range names {
			if n == want {
				return true
			}
		}
	}
	return false
}

// MatchPath reports whether exe lies under one of the prefixes (ignoring
// case on Windows, whose file names are case-insensitive).
func (m Matcher) MatchPath(exe string) bool {
	exe = foldPath(filepath.Clean(exe))
	for _, pre := range m.Prefixes {
		pre = foldPath(filepath.Clean(pre))
		if exe == pre || strings.HasPrefix(exe, strings.TrimSuffix(pre, string(filepath.Separator))+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// SameAccount reports whether owner, as Windows shows it (DOMAIN\user),
// is the account want names: "DOMAIN\user" or "user" alone, in any case,
// as Windows compares account names.
func SameAccount(owner, want string) bool {
	if owner == "" || want == "" {
		return false
	}
	if strings.EqualFold(owner, want) {
		return true
	}
	_, user, ok := strings.Cut(owner, `\`)
	return ok && !strings.Contains(want, `\`) && strings.EqualFold(user, want)
}

// Source lists processes. A process that vanishes during the scan is
// normal and simply left out.
type Source interface {
	// Scan returns the processes that m matches.
	Scan(m Matcher) ([]Proc, error)
}

// Names returns the names of procs, for messages.
func Names(procs []Proc) []string {
	out := make([]string, len(procs))
	for i, p := range procs {
		out[i] = p.String()
	}
	return out
}
