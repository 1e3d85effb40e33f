package main

import (
	"go.uber.org/zap/zapcore"

	"github.com/quiesce/quiesce/core/domino"
)

// phaseList logs a stop's phases as [{"phase":"graceful","took":1.35}, ...]:
// the same names and seconds as every other log line.
type phaseList []domino.Phase

func (l phaseList) MarshalLogArray(enc zapcore.ArrayEncoder) error {
	for _, p := range l {
		p := p
		if err := enc.AppendObject(zapcore.ObjectMarshalerFunc(func(o zapcore.ObjectEncoder) error {
			o.AddString("phase", p.Name)
			o.AddDuration("took", p.Duration)
			return nil
		})); err != nil {
			return err
		}
	}
	return nil
}
