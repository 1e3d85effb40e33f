package main

import (
	"github.com/urfave/cli/v2"
	"go.uber.org/zap"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/metrics"
	"github.com/quiesce/quiesce/core/state"
)

// observed makes every command's operations reportable: its context
// carries an observer of the freeze engines, which writes the metrics
// file when the configuration asks for one. The engines are built by the
// commands; the context reaches every operation they run.
func observed(e *env, cmds []*cli.Command) []*cli.Command {
	for _, cmd := range cmds {
		observed(e, cmd.Subcommands)
		action := cmd.Action
		if action == nil {
			continue
		}
		cmd.Action = func(c *cli.Context) error {
			c.Context = freeze.WithObserver(c.Context, &cliObserver{e: e, c: c})
			return action(c)
		}
	}
	return cmds
}

// cliObserver reports to the monitoring the loaded configuration names;
// before a configuration is loaded there is nothing to report.
type cliObserver struct {
	e *env
	c *cli.Context
	w *metrics.Textfile
}

func (o *cliObserver) Observe(ev freeze.Event) {
	if o.w == nil && !o.open() {
		return
	}
	o.w.Observe(ev)
}

// open sets up the metrics writer; false when none is configured or the
// state directory cannot be used.
func (o *cliObserver) open() bool {
	cfg := o.e.cfg
	if cfg == nil || cfg.Metrics.TextfileDir == "" {
		return false
	}
	store, err := state.Open(o.e.stateDir(o.c, *cfg))
	if err != nil {
		o.e.log.Warn("no metrics: state directory unusable", zap.Error(err))
		return false
	}
	budget := cfg.Metrics.OutageBudget
	if budget == 0 {
		budget = config.DefaultOutageBudget
	}
	o.w = &metrics.Textfile{Dir: cfg.Metrics.TextfileDir, Store: store, Log: o.e.log, OutageBudget: budget}
	return true
}
