// Package clock provides the time source the engine uses, so tests and
// benchmarks can inject their own.
package clock

import "time"

// Clock tells the time. The engine never calls time.Now directly.
type Clock interface {
	Now() time.Time
}

// Real is the wall clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }
