package service

import (
	"context"
	"fmt"
)

// Reporter is a Manager that can say whether it runs the application: a
// systemd unit or a Windows service. Its own start and stop commands
// cannot.
type Reporter interface {
	// Active reports whether the manager runs the application (or is
	// starting or stopping it), with the manager's word for its state.
	Active(ctx context.Context) (active bool, state string, err error)
}

// UnseenError: the manager says the application runs, but none of its
// processes can be found. Never "not running": a freeze that believed it
// would let the snapshot be taken with the application running.
type UnseenError struct {
	Manager string // e.g. "systemd unit app.service"
	State   string // the manager's word: "active", "running"
}

func (e *UnseenError) Error() string {
	return fmt.Sprintf("%s is %s, but none of its processes can be found (check process_path, process_names and user): not treating it as stopped", e.Manager, e.State)
}

// CheckUnseen is called when no process of the application was found: it
// returns an *UnseenError when m says the application runs, nil when m
// agrees that it does not or cannot tell (Commands).
func CheckUnseen(ctx context.Context, m Manager) error {
	r, ok := m.(Reporter)
	if !ok {
		return nil
	}
	active, state, err := r.Active(ctx)
	if err != nil {
		return fmt.Errorf("no process found, and asking %s whether it runs failed: %w", m, err)
	}
	if active {
		return &UnseenError{Manager: m.String(), State: state}
	}
	return nil
}

// Active implements Reporter: any state but inactive or failed (activating,
// deactivating, reloading) means the unit has or is about to have processes.
func (s Systemd) Active(ctx context.Context) (bool, string, error) {
	st, err := s.Show(ctx, "ActiveState")
	if err != nil {
		return false, "", err
	}
	return st != "inactive" && st != "failed" && st != "", st, nil
}

// Active implements Reporter: any state but stopped.
func (w WindowsService) Active(context.Context) (bool, string, error) {
	h, err := w.open(w.Name)
	if err != nil {
		return false, "", err
	}
	defer h.Close()
	st, err := h.State()
	if err != nil {
		return false, "", fmt.Errorf("query service %s: %w", w.Name, err)
	}
	return st != SCMStopped, st.String(), nil
}
