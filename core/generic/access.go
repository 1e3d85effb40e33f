package generic

import "github.com/quiesce/quiesce/core/runas"

// CheckAccess reports, without acting, whether quiesce may act as the
// target's configured user (nil when none is configured).
func (t *Target) CheckAccess() error {
	if t.acct == nil {
		return nil
	}
	return runas.CanActAs(*t.acct)
}
