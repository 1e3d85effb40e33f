package freeze

import "errors"

// ErrNotQuiesced marks a thaw error that says the snapshot taken during
// the freeze is not consistent (a late thaw: the freeze had expired; an
// online backup that failed before its deltas were written). Monitoring
// counts per snapshot whether it was quiesced by it; any other thaw error
// (a start that failed after a stop) leaves the snapshot as good as the
// freeze made it.
var ErrNotQuiesced = errors.New("the snapshot is not quiesced")

// NotQuiesced marks err as ErrNotQuiesced.
func NotQuiesced(err error) error { return &notQuiesced{err} }

type notQuiesced struct{ err error }

func (e *notQuiesced) Error() string   { return e.err.Error() }
func (e *notQuiesced) Unwrap() []error { return []error{e.err, ErrNotQuiesced} }
