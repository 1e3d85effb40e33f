package online

import (
	"testing"
	"time"

	"github.com/quiesce/quiesce/core/freeze"
)

func TestFitCaller(t *testing.T) {
	set := DefaultSettings // 120 s to enter backup mode
	hard := func(b time.Duration) freeze.Caller {
		return freeze.Caller{Name: "x", Budget: b, Limits: freeze.Limits{Hard: true}}
	}
	for _, tc := range []struct {
		c      freeze.Caller
		enter  time.Duration
		capped bool
		fits   bool
	}{
		{hard(60 * time.Second), 48 * time.Second, true, true}, // Google: a fifth kept to cancel
		{hard(10 * time.Second), 8 * time.Second, true, true},  // AWS: 2 s kept
		{hard(4 * time.Second), 2 * time.Second, true, false},  // less than MinEnter
		{freeze.Caller{Budget: 60 * time.Second}, 60 * time.Second, true, true},
		{freeze.Caller{Budget: 10 * time.Minute}, 120 * time.Second, false, true},
		{freeze.Caller{}, 120 * time.Second, false, true},
	} {
		f := FitCaller(tc.c, set)
		if f.Enter != tc.enter || f.Capped != tc.capped || f.Fits != tc.fits {
			t.Errorf("%+v: %+v", tc.c, f)
		}
	}
}

// A hard caller's wait for backup mode ends CancelMargin before its limit,
// counted from when its invocation began.
func TestEnterByHardLimit(t *testing.T) {
	e := &Method{set: DefaultSettings}
	began := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	now := began.Add(3 * time.Second)
	c := freeze.Caller{Budget: 60 * time.Second, Began: began, Limits: freeze.Limits{Hard: true}}
	if got, want := e.enterBy(c, now), began.Add(48*time.Second); !got.Equal(want) {
		t.Fatalf("hard: %s, want %s", got, want)
	}
	c.Hard = false
	if got, want := e.enterBy(c, now), now.Add(120*time.Second); !got.Equal(want) {
		t.Fatalf("soft: %s, want %s", got, want)
	}
}
