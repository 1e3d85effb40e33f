package freeze_test

import (
	"time"

	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/clock"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/freeze/stopstart"
	"github.com/quiesce/quiesce/core/state"
)

// instance is the test instance named name.
func instance(name string) freeze.Instance {
	return freeze.Instance{Kind: "test", Ident: "/test/" + name, Name: name}
}

// key is the record key of the test instance named name.
func key(name string) string { return instance(name).Key() }

// session is a stop/start session over target tg, the instance named name.
func session(tg stopstart.Target, name string, store *state.Store, p freeze.Policy, log *zap.Logger, c clock.Clock) *freeze.Session {
	return stopstart.NewSession(tg, instance(name), store, p, log, c)
}

// timeouts are a stop's steps as Domino's (rc_domino's) are: the graceful
// wait, nsd -kill with its wait (twice the kill wait), SIGTERM and SIGKILL
// with one kill wait each.
func timeouts(shutdown, killWait, start time.Duration) freeze.Timeouts {
	return freeze.Timeouts{Start: start, Steps: []freeze.Step{
		{Name: "graceful", Limit: shutdown, Graceful: true},
		{Name: "nsd-kill", Limit: 2 * killWait, Kills: true},
		{Name: "sigterm", Limit: killWait, Kills: true},
		{Name: "sigkill", Limit: killWait, Kills: true},
	}}
}

// name is a test target's instance name.
func name(tg any) string {
	if n, ok := tg.(interface{ Name() string }); ok {
		return n.Name()
	}
	return "domino"
}
