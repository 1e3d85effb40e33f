//go:build linux

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/cmd/simdomino/timeline"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/proc"
)

// The benchmarks measure what quiesce adds on top of the application's own
// time, as the simulator records it in its timeline. Each reports medians;
// ns/op is suppressed because it would mix the application's time in.
// Targets (not asserted): overhead <= 50 ms, kill <= 100 ms after the
// timeout, scan <= 50 ms, peak RSS <= 40 MB.

// timedRun runs the real quiesce binary and returns its wall time and peak
// RSS in MB.
func timedRun(b *testing.B, cfg, logFile string, action ...string) (time.Duration, float64, time.Time) {
	b.Helper()
	bin := simtest.Binary(b, "quiesce")
	cmd := exec.Command(bin, append([]string{"--config", cfg, "--log-file", logFile}, action...)...)
	began := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(began)
	if code := cmd.ProcessState.ExitCode(); err != nil && code != ExitForcedStop {
		b.Fatalf("quiesce %s: %v\n%s", action, err, out)
	}
	rss := float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024
	return wall, rss, began
}

func span(b *testing.B, sim *simtest.Sim, from, to string, since time.Time) time.Duration {
	d, ok := timeline.Span(sim.Timeline(), from, to, since)
	if !ok {
		b.Fatalf("timeline has no %s -> %s", from, to)
	}
	return d
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func report(b *testing.B, metrics map[string][]float64) {
	b.ReportMetric(0, "ns/op")
	for unit, xs := range metrics {
		b.ReportMetric(median(xs), unit)
	}
}

func BenchmarkStopOverhead(b *testing.B) {
	for _, shutdown := range []float64{0.2, 2} {
		b.Run(time.Duration(shutdown*float64(time.Second)).String(), func(b *testing.B) {
			sim := simtest.New(b, simtest.Options{ShutdownSeconds: shutdown, StartSeconds: 0.1})
			logFile := filepath.Join(b.TempDir(), "q.log")
			m := map[string][]float64{}
			for i := 0; i < b.N; i++ {
				if _, _, _ = timedRun(b, sim.RcConfig, logFile, "start"); !sim.Serving() {
					b.Fatal("not serving after start")
				}
				wall, rss, began := timedRun(b, sim.RcConfig, logFile, "stop")
				own := span(b, sim, timeline.ShutdownRequested, timeline.Exited, began)
				m["overhead-ms"] = append(m["overhead-ms"], float64(wall-own)/1e6)
				m["app-ms"] = append(m["app-ms"], float64(own)/1e6)
				m["peak-rss-MB"] = append(m["peak-rss-MB"], rss)
			}
			report(b, m)
		})
	}
}

func BenchmarkStartOverhead(b *testing.B) {
	sim := simtest.New(b, simtest.Options{ShutdownSeconds: 0.1, StartSeconds: 0.5})
	logFile := filepath.Join(b.TempDir(), "q.log")
	m := map[string][]float64{}
	for i := 0; i < b.N; i++ {
		wall, rss, began := timedRun(b, sim.RcConfig, logFile, "start")
		own := span(b, sim, timeline.StartRequested, timeline.Ready, began)
		m["overhead-ms"] = append(m["overhead-ms"], float64(wall-own)/1e6)
		m["app-ms"] = append(m["app-ms"], float64(own)/1e6)
		m["peak-rss-MB"] = append(m["peak-rss-MB"], rss)
		timedRun(b, sim.RcConfig, logFile, "stop")
	}
	report(b, m)
}

// BenchmarkKillLateness: a task hangs; how long after the configured
// shutdown timeout does nsd -kill strike?
func BenchmarkKillLateness(b *testing.B) {
	sim := simtest.New(b, simtest.Options{ShutdownSeconds: 0.1, StartSeconds: 0.1, Ini: map[string]string{"SimHangTask": "router"}})
	cfg := filepath.Join(b.TempDir(), "quiesce.conf")
	const timeout = 500 * time.Millisecond
	body := "[domino]\nuser = " + sim.User + "\nlotus = " + sim.Lotus + "\ndata = " + sim.Data + "\nshutdown_timeout = 500ms\nkill_wait = 2s\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		b.Fatal(err)
	}
	logFile := filepath.Join(b.TempDir(), "q.log")
	m := map[string][]float64{}
	for i := 0; i < b.N; i++ {
		timedRun(b, cfg, logFile, "start")
		_, rss, began := timedRun(b, cfg, logFile, "stop")
		kill, ok := timeline.Last(sim.Timeline(), timeline.NsdKill, began)
		if !ok {
			b.Fatal("nsd -kill never ran")
		}
		m["kill-late-ms"] = append(m["kill-late-ms"], float64(kill.Time.Sub(began.Add(timeout)))/1e6)
		m["peak-rss-MB"] = append(m["peak-rss-MB"], rss)
	}
	report(b, m)
}

// BenchmarkScan1000: find the server's processes among 1,000 others.
func BenchmarkScan1000(b *testing.B) {
	sim := simtest.New(b, simtest.Options{StartSeconds: 0.1, ShutdownSeconds: 0.1})
	srv, err := domino.New(sim.Config(5*time.Second), domino.Deps{Source: proc.NewSystem()})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := srv.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	extra := make([]*exec.Cmd, 0, 1000)
	b.Cleanup(func() {
		for _, c := range extra {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	})
	for i := 0; i < 1000; i++ {
		c := exec.Command("sleep", "600")
		if err := c.Start(); err != nil {
			b.Fatal(err)
		}
		extra = append(extra, c)
	}
	m := map[string][]float64{}
	for i := 0; i < b.N; i++ {
		began := time.Now()
		procs, err := srv.Processes()
		took := time.Since(began)
		if err != nil || len(procs) != 5 {
			b.Fatalf("scan found %d: %v", len(procs), err)
		}
		m["scan-ms"] = append(m["scan-ms"], float64(took)/1e6)
	}
	report(b, m)
}
