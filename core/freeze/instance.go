package freeze

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Instance is one application instance: what makes it that instance. Two
// configurations that describe the same instance (an rc_domino_config and
// a quiesce.conf for one data directory) give the same Instance, and so
// the same record, lock and watchdog; two instances share nothing.
type Instance struct {
	Kind  string // "domino", or "target" for a [target NAME]
	Ident string // its identity: Domino's canonical data directory, a unit, a service, ...
	Name  string // readable, for status, history, metrics and logs
	// Legacy are the names version 1 kept this instance's record under
	// ("domino", "domino-online", a [target]'s name): a freeze taken by
	// that release is found and upgraded.
	Legacy []string
}

// Key names the instance's record, lock and watchdog in the state
// directory: its kind, a readable part of its identity, and a hash of the
// whole identity, so that keys differ whenever identities do.
func (i Instance) Key() string {
	sum := sha256.Sum256([]byte(i.Kind + "\x00" + i.Ident))
	return i.Kind + "-" + slug(i.Ident) + "-" + hex.EncodeToString(sum[:4])
}

// slug keeps the last letters, digits and dashes of an identity, at most
// 32 characters (a data directory's end tells partitions apart best).
func slug(ident string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(ident) {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		switch {
		case ok:
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > 32 {
		s = strings.TrimLeft(s[len(s)-32:], "-")
	}
	if s == "" {
		s = "x"
	}
	return s
}
