package hook

import (
	"testing"
	"time"

	"github.com/quiesce/quiesce/core/freeze"
)

// A configured limit longer than the caller's own is cut to it; a shorter
// one and an unset one are kept.
func TestWithin(t *testing.T) {
	own := Limits{Budget: 30 * time.Second, Limits: freeze.Limits{Thaw: 30 * time.Second}}
	for _, c := range []struct{ conf, want Limits }{
		{Limits{Budget: time.Minute, Limits: freeze.Limits{Thaw: time.Minute}}, own},
		{Limits{Budget: 20 * time.Second}, Limits{Budget: 20 * time.Second}},
		{Limits{}, Limits{}},
	} {
		req := Within(Request{Open: func(string) (Opened, error) { return Opened{Limits: c.conf}, nil }}, own)
		got, err := req.Open("azure")
		if err != nil || got.Limits != c.want {
			t.Errorf("configured %+v: got %+v, want %+v", c.conf, got.Limits, c.want)
		}
	}
}
