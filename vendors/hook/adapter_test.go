package hook

import (
	"context"
	"slices"
	"testing"
)

func testRegistry() Registry {
	run := func(context.Context, Request) int { return 0 }
	return Registry{
		{Name: "plain", Run: run},
		{Name: "quiet", Run: run, StdoutOnly: true},
		{Name: "named", Run: run, Invoked: func(argv0 string, args []string) ([]string, bool) {
			if argv0 == "/hooks/pre" {
				return append([]string{"freeze"}, args...), true
			}
			return nil, false
		}},
	}
}

func TestRegistryInvoked(t *testing.T) {
	r := testRegistry()
	if got, ok := r.Invoked([]string{"/hooks/pre", "x"}); !ok || !slices.Equal(got, []string{"quiesce", "named", "freeze", "x"}) {
		t.Fatalf("hook name: %v %v", got, ok)
	}
	in := []string{"/usr/local/sbin/quiesce", "plain", "freeze"}
	if got, ok := r.Invoked(in); ok || !slices.Equal(got, in) {
		t.Fatalf("own name rewritten: %v %v", got, ok)
	}
}

// The caller is the first word after the global options, whether their
// values are given with "=" or as the next word.
func TestRegistryStdoutOnly(t *testing.T) {
	r := testRegistry()
	valued := func(f string) bool { return f == "config" || f == "c" }
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"q", "quiet", "pre-freeze"}, true},
		{[]string{"q", "--config=/etc/q.conf", "quiet", "pre-freeze"}, true},
		{[]string{"q", "--config", "/etc/q.conf", "quiet", "pre-freeze"}, true},
		{[]string{"q", "-c", "quiet", "quiet"}, true},
		{[]string{"q", "--config", "quiet", "plain"}, false},
		{[]string{"q", "plain", "quiet"}, false},
		{[]string{"q", "--help"}, false},
		{[]string{"q"}, false},
	} {
		if got := r.StdoutOnly(c.args, valued); got != c.want {
			t.Errorf("%v: got %v, want %v", c.args, got, c.want)
		}
	}
}

func TestRegistryFind(t *testing.T) {
	if a, ok := testRegistry().Find("quiet"); !ok || !a.StdoutOnly {
		t.Fatalf("find: %+v %v", a, ok)
	}
	if _, ok := testRegistry().Find("nope"); ok {
		t.Fatal("found an adapter that is not registered")
	}
}
