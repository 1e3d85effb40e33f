package freeze

import (
	"context"
	"encoding/json"
	"time"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/state"
)

// Method is one way of bringing an instance to a consistent state for a
// snapshot and back: stopping and starting it, or an online backup mode.
// The session calls it with the instance's lock held and its record
// loaded (Run); everything else of a freeze (holders, joins, deadlines,
// the watchdog, late thaws, recovery) is the session's. A method keeps
// what it needs to remember in the record's Data.
type Method interface {
	// Name names the method in records, logs and metrics.
	Name() string
	// Plan says how a freeze by c, and the thaw after it, fit c's limits.
	Plan(c Caller) Plan
	// Check runs before anything is recorded: change is false (with the
	// result to report) when the instance needs nothing done (it is not
	// running); an error means this freeze must not be tried, and leaves
	// the instance as it was.
	Check(ctx context.Context, c Caller) (res Result, change bool, err error)
	// Deadline caps the deadline the session gives a freeze (a backup
	// mode that cannot outlast its own limit); zero for no cap.
	Deadline(r *Run, c Caller, now time.Time) time.Time
	// Enter makes the instance consistent (the record says entering and
	// owes bringing it back) and returns once it has observed that it is
	// (stopped, in backup mode). Its error is undone by Abort, whose
	// error says (ErrUnchanged) when the instance is as it was.
	Enter(ctx context.Context, r *Run, c Caller) (Result, error)
	// Abort undoes a freeze that failed after Enter began (Enter's error,
	// or too little time left for the snapshot): it brings the instance
	// back and returns the freeze's error, a *FreezeError saying whether
	// it did. It leaves the record cleared, or in a phase the watchdog
	// settles (Run.Pending).
	Abort(ctx context.Context, r *Run, c Caller, cause error) (Result, error)
	// Leave brings the instance back after the last holder's thaw (the
	// record has no holders left); b bounds how long it may wait. It
	// clears the record when done, or leaves it in a phase the watchdog
	// settles.
	Leave(ctx context.Context, r *Run, b Bound) (Result, error)
	// Settle ends what no thaw will end: an interrupted Enter or Leave, an
	// expired hold (the holders are already moved to the record's
	// Expired), or one from before a reboot. On success the session keeps
	// only the expired holders; on error the method has recorded what is
	// still owed.
	Settle(ctx context.Context, r *Run, why Why) (Result, error)
	// Holds reports, before another caller joins the freeze in place,
	// whether the instance still is as the record says (stopped, in
	// backup mode): a freeze is reported only when it was observed.
	Holds(ctx context.Context, r *Run) error
	// Describe says in a few words what holds the instance, for messages
	// ("frozen", "in backup mode (Domino Backup 20261206120000)").
	Describe(r *Run) string
	// Late is what ending an expired freeze did, and what that means for
	// a snapshot taken after it, for a late thaw's error.
	Late() (ended, effect string)
}

// Extender is a Method that keeps something outside the instance in step
// with the freeze's deadline (a cluster lock's lease in etcd, which must
// hold as long as the freeze may): the session tells it when a caller
// joining or renewing the freeze moves the deadline. Its error becomes a
// warning of that caller's freeze: the freeze itself holds as before.
type Extender interface {
	Extend(ctx context.Context, r *Run, deadline time.Time) error
}

// Tidier is a Method that keeps something beside the record that can
// outlive the freeze: a cluster lock whose release a kill cut short just
// after the record was cleared. Whoever finds no freeze in place — the
// watchdog before it ends, recover — lets it tidy up (with the instance's
// lock held); what it returns are warnings, logged.
type Tidier interface {
	Tidy(ctx context.Context, r *Run) []string
}

// Why a hold is settled.
type Why int

// Reasons to settle.
const (
	Interrupted Why = iota // an Enter or Leave was cut short (the record's phase says which)
	Expired                // the deadline passed without a thaw
	Boot                   // from before a reboot: the snapshot is gone, so is any backup mode
)

// Bound is when a thaw must answer at the latest (zero: no bound), and
// who thaws.
type Bound struct {
	By  time.Time
	Who string
}

// Run is what a method sees of one operation: the instance's record, to
// read and change, and the session's services.
type Run struct {
	Rec *state.Record
	s   *Session
	// Who is the operation, for logs ("thaw by vmware", "watchdog").
	Who string
}

// Instance is the instance the session guards.
func (r *Run) Instance() Instance { return r.s.inst }

// Now reads the session's clock.
func (r *Run) Now() time.Time { return r.s.clock.Now() }

// Log is the session's logger.
func (r *Run) Log() *zap.Logger { return r.s.log }

// Policy is the session's policy.
func (r *Run) Policy() Policy { return r.s.policy }

// Save writes the record. A record that cannot be written is reported to
// the caller of Save, who decides: bringing an application back comes
// before bookkeeping.
func (r *Run) Save() error {
	r.Rec.Updated = r.s.clock.Now()
	return r.s.store.Save(*r.Rec)
}

// Clear forgets the freeze: the record is removed (expired holders, if
// any, are kept for their late thaws).
func (r *Run) Clear() error {
	if len(r.Rec.Expired) > 0 {
		*r.Rec = state.Record{Version: state.Version, Instance: r.s.key, Name: r.s.inst.Name, Method: r.Rec.Method, Expired: r.Rec.Expired,
			ExpiredAt: r.Rec.ExpiredAt, ExpiredEnd: r.Rec.ExpiredEnd, ExpiredChanged: r.Rec.ExpiredChanged}
		return r.Save()
	}
	*r.Rec = state.Record{Version: state.Version, Instance: r.s.key}
	return r.s.store.Clear(r.s.key)
}

// Pending leaves the record to the watchdog: no holders, due now, in the
// given phase, which the watchdog settles at once.
func (r *Run) Pending(phase, note string) error {
	r.Rec.Phase, r.Rec.Holders, r.Rec.Deadline, r.Rec.BootAt, r.Rec.Note = phase, nil, r.s.clock.Now(), nil, note
	r.s.armWatchdog()
	return r.Save()
}

// Arm makes sure a watchdog guards the instance.
func (r *Run) Arm() { r.s.armWatchdog() }

// Data decodes the method's own part of the record into v.
func (r *Run) Data(v any) error {
	if len(r.Rec.Data) == 0 {
		return nil
	}
	return json.Unmarshal(r.Rec.Data, v)
}

// SetData encodes v as the method's own part of the record.
func (r *Run) SetData(v any) {
	r.Rec.Data, _ = json.Marshal(v) // plain structs: nothing to fail
}

// Store is the state directory, for what a method keeps beside the
// record (the stop method's start notes).
func (r *Run) Store() *state.Store { return r.s.store }

// Key is the instance's key in the state directory.
func (r *Run) Key() string { return r.s.key }
