package timeline

import (
	"testing"
	"time"
)

func TestAppendReadSpan(t *testing.T) {
	dir := t.TempDir()
	before := time.Now().Add(-time.Second)
	for _, ev := range []string{StartRequested, Ready, ShutdownRequested} {
		if err := Append(dir, ev, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := Append(dir, TaskStopped, "router"); err != nil {
		t.Fatal(err)
	}
	if err := Append(dir, Exited, ""); err != nil {
		t.Fatal(err)
	}
	evs, err := Read(dir)
	if err != nil || len(evs) != 5 {
		t.Fatalf("%v %v", evs, err)
	}
	if evs[3].Name != TaskStopped || evs[3].Detail != "router" {
		t.Fatalf("detail lost: %+v", evs[3])
	}
	d, ok := Span(evs, ShutdownRequested, Exited, before)
	if !ok || d < 0 || d > time.Second {
		t.Fatalf("span %v %v", d, ok)
	}
	if _, ok := Span(evs, Exited, StartRequested, before); ok {
		t.Fatal("span must look forward only")
	}
	if _, ok := Last(evs, Ready, time.Now().Add(time.Hour)); ok {
		t.Fatal("Last must ignore events before since")
	}
}
