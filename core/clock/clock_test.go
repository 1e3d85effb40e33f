package clock

import (
	"testing"
	"time"
)

func TestFakeFiresWaitsWhenAdvanced(t *testing.T) {
	start := time.Date(2026, 11, 23, 8, 33, 0, 0, time.UTC)
	c := NewFake(start)
	now := c.After(0)
	later := c.After(2 * time.Second)
	latest := c.After(5 * time.Second)
	if at := <-now; !at.Equal(start) {
		t.Fatalf("After(0) fired at %v", at)
	}
	if next, ok := c.Next(); !ok || !next.Equal(start.Add(2*time.Second)) {
		t.Fatalf("next wait ends %v %v", next, ok)
	}
	c.Advance(1999 * time.Millisecond)
	select {
	case <-later:
		t.Fatal("a 2 s wait fired after 1.999 s")
	default:
	}
	c.Advance(time.Millisecond)
	if at := <-later; !at.Equal(start.Add(2 * time.Second)) {
		t.Fatalf("2 s wait fired at %v", at)
	}
	select {
	case <-latest:
		t.Fatal("a 5 s wait fired after 2 s")
	default:
	}
	c.Advance(time.Hour)
	<-latest
	if _, ok := c.Next(); ok || !c.Now().Equal(start.Add(time.Hour+2*time.Second)) {
		t.Fatalf("after all waits: now %v", c.Now())
	}
}
