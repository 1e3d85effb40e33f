// Package freeze is the freeze session: one per application instance,
// written once for every way of freezing it. A session brings its
// instance to a consistent state for a snapshot and back through a
// freeze method (stop and start it, or put it into an online backup
// mode): it keeps the instance's record, lock, holders and deadline,
// lets callers join a freeze in place, restores the instance when a
// freeze fails part-way (no caller guarantees a thaw), thaws only at the
// last holder's thaw, tells a late thaw so, and settles what an
// interrupted run, an expired freeze or a reboot left, through a watchdog
// that outlives the caller. The methods (subpackages stopstart and
// backupmode) do only what differs: how the instance is made consistent
// and brought back.
package freeze
