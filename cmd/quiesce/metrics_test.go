//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
	"github.com/quiesce/quiesce/core/metrics"
)

// Freezes and thaws of the simulated server through the CLI leave a
// metrics file that Prometheus' own parser reads: the freeze's outage and
// window are there, and the counters go on counting across the quiesce
// processes of two cycles (each hook call is a process of its own).
func TestMetricsTextfile(t *testing.T) {
	simtest.Slow(t)
	promDir := filepath.Join(t.TempDir(), "textfile_collector")
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.3, StartSeconds: 0.3}, "\n[metrics]\ntextfile_dir = "+promDir+"\n")
	g.mustRun(t, "start")
	prom := filepath.Join(promDir, metrics.FileName)
	for cycle := 1; cycle <= 2; cycle++ {
		g.mustRun(t, "qemu", "freeze")
		if g.sim.Serving() {
			t.Fatal("serving after the freeze")
		}
		fams := parseProm(t, prom)
		if got := value(t, fams, "quiesce_freezes_total", "target="+g.name(), "caller=qemu", "outcome=stopped"); got != float64(cycle) {
			t.Fatalf("cycle %d: quiesce_freezes_total = %v after the freeze", cycle, got)
		}
		g.mustRun(t, "qemu", "thaw")
		if !g.sim.Serving() {
			t.Fatal("not serving after the thaw")
		}
		fams = parseProm(t, prom)
		outage := value(t, fams, "quiesce_last_outage_seconds", "target="+g.name())
		window := value(t, fams, "quiesce_last_freeze_window_seconds", "target="+g.name())
		// The simulated server takes 0.3 s to stop and 0.3 s to serve: the
		// outage holds both and the window between them.
		if outage < 0.6 || window <= 0 || window >= outage {
			t.Fatalf("cycle %d: outage %.3fs, window %.3fs", cycle, outage, window)
		}
		if got := value(t, fams, "quiesce_last_operation_success", "target="+g.name(), "caller=qemu", "op=thaw"); got != 1 {
			t.Fatalf("last thaw success = %v", got)
		}
		if got := value(t, fams, "quiesce_last_outcome_info", "target="+g.name(), "caller=qemu", "op=thaw", "outcome=started"); got != 1 {
			t.Fatalf("last thaw outcome info = %v", got)
		}
		if got := value(t, fams, "quiesce_failures_total", "target="+g.name(), "caller=qemu", "op=freeze"); got != 0 {
			t.Fatalf("failures = %v", got)
		}
		if q, n := value(t, fams, "quiesce_last_snapshot_quiesced", "target="+g.name(), "caller=qemu"),
			value(t, fams, "quiesce_snapshots_total", "target="+g.name(), "caller=qemu", "quiesced=yes"); q != 1 || n != float64(cycle) {
			t.Fatalf("cycle %d: last snapshot quiesced %v, quiesced snapshots %v", cycle, q, n)
		}
	}
	// A thaw of nothing is an operation too: it is the last thaw now, and
	// the outage of the last real freeze stays.
	g.mustRun(t, "qemu", "thaw")
	fams := parseProm(t, prom)
	if value(t, fams, "quiesce_last_outcome_info", "target="+g.name(), "caller=qemu", "op=thaw", "outcome=nothing-to-thaw") != 1 ||
		value(t, fams, "quiesce_last_outage_seconds", "target="+g.name()) < 0.6 {
		t.Fatal("a thaw of nothing is not the last thaw, or it cleared the outage")
	}
	// promtool check metrics runs this linter (Debian's promtool comes
	// only with the whole Prometheus server package).
	b, err := os.ReadFile(prom)
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.New(strings.NewReader(string(b))).Lint()
	if err != nil || len(problems) > 0 {
		t.Fatalf("promlint: %v %v\n%s", err, problems, b)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(promDir, "*")); len(leftovers) != 1 {
		t.Fatalf("the textfile directory holds more than %s: %v", metrics.FileName, leftovers)
	}
}

func parseProm(t *testing.T, path string) map[string]*dto.MetricFamily {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("%s does not parse: %v", path, err)
	}
	return fams
}

// value is the value of the one series of name with the labels given as
// "name=value"; the test fails when there is none.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	fam, ok := fams[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
next:
	for _, m := range fam.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for _, want := range labels {
			k, v, _ := strings.Cut(want, "=")
			if have[k] != v {
				continue next
			}
		}
		if m.GetCounter() != nil {
			return m.GetCounter().GetValue()
		}
		return m.GetGauge().GetValue()
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}

// A freeze never thawed: the watchdog, a quiesce process of its own,
// starts the server at the deadline and counts a watchdog restart with the
// outage it ended.
func TestMetricsWatchdogRestart(t *testing.T) {
	simtest.Slow(t)
	promDir := t.TempDir()
	// The deadline leaves a loaded machine's stop room: a freeze whose stop
	// uses up the window is refused.
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.2}, "deadline = 15s\n\n[metrics]\ntextfile_dir = "+promDir+"\n")
	g.mustRun(t, "start")
	g.mustRun(t, "vmware", "freeze")
	prom := filepath.Join(promDir, metrics.FileName)
	simtest.Eventually(t, 15*time.Second+15*time.Second, "(deadline + 15 s) the watchdog's restart in the metrics", func() bool {
		b, _ := os.ReadFile(prom)
		return strings.Contains(string(b), `quiesce_watchdog_restarts_total{target="`+g.name()+`"} 1`)
	})
	if !g.sim.Serving() {
		t.Fatal("the watchdog counted a restart of a server that does not serve")
	}
	fams := parseProm(t, prom)
	if value(t, fams, "quiesce_last_outcome_info", "target="+g.name(), "caller=watchdog", "op=watchdog", "outcome=started") != 1 ||
		value(t, fams, "quiesce_last_outage_seconds", "target="+g.name()) < 15 {
		t.Fatal("the watchdog's start or the outage it ended is missing")
	}
}

// An online freeze never thawed: the online watchdog ends backup mode at
// the window's end and reports it: op "watchdog", caller "watchdog", outcome
// "released", a success (the backup task ended).
func TestMetricsOnlineWatchdog(t *testing.T) {
	simtest.Slow(t)
	forOrders(t, metricsOnlineWatchdog)
}

func metricsOnlineWatchdog(t *testing.T, o simtest.Options) {
	promDir := t.TempDir()
	g := newOnlineGuest(t, o, "online", "backup_max_window = 2s\n", "\n[metrics]\ntextfile_dir = "+promDir+"\n")
	g.mustRun(t, "start")
	g.mustRun(t, "vmware", "freeze")
	prom := filepath.Join(promDir, metrics.FileName)
	simtest.Eventually(t, 2*time.Second+10*time.Second, "the online watchdog's action in the metrics", func() bool {
		b, _ := os.ReadFile(prom)
		return strings.Contains(string(b), `op="watchdog"`)
	})
	fams := parseProm(t, prom)
	if value(t, fams, "quiesce_last_outcome_info", "target="+g.name(), "caller=watchdog", "op=watchdog", "outcome=released") != 1 ||
		value(t, fams, "quiesce_last_operation_success", "target="+g.name(), "caller=watchdog", "op=watchdog") != 1 {
		b, _ := os.ReadFile(prom)
		t.Fatalf("the online watchdog's release is missing or failed:\n%s", b)
	}
	if value(t, fams, "quiesce_last_operation_success", "target="+g.name(), "caller=vmware", "op=freeze") != 1 {
		t.Fatal("the online freeze itself is not reported")
	}
	// quiesce recover afterwards finds nothing online to end: the
	// watchdog's report stays, next to the stop engine's own recover.
	g.mustRun(t, "recover")
	fams = parseProm(t, prom)
	if value(t, fams, "quiesce_last_outcome_info", "target="+g.name(), "caller=watchdog", "op=watchdog", "outcome=released") != 1 ||
		value(t, fams, "quiesce_last_operation_success", "target="+g.name(), "caller=recover", "op=recover") != 1 {
		b, _ := os.ReadFile(prom)
		t.Fatalf("after quiesce recover:\n%s", b)
	}
}

// A freeze that has to kill Domino and then fails (forced_stop = fail,
// the default) restarts it: the kill and the outage it caused are counted
// and shown everywhere, in the caller's one line, the log, the metrics and
// history (#21: they said forced false, downtime 0).
func TestForcedFailedFreezeIsCounted(t *testing.T) {
	promDir := filepath.Join(t.TempDir(), "textfile_collector")
	g := newGuest(t, simtest.Options{ShutdownSeconds: 0.2, Ini: map[string]string{"SimHangTask": "router"}}, "\n[metrics]\ntextfile_dir = "+promDir+"\n")
	body := strings.Replace(mustRead(t, g.cfg), "shutdown_timeout = 20s", "shutdown_timeout = 1s", 1)
	if err := os.WriteFile(g.cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	g.mustRun(t, "start")
	code, out := g.run(t, "veeam", "pre-freeze")
	if code == 0 || !strings.Contains(out, "could only be stopped by force") || !strings.Contains(out, "started again (down ") {
		t.Fatalf("forced freeze: exit %d %s", code, out)
	}
	if !g.sim.Serving() {
		t.Fatal("not serving after the failed freeze")
	}
	if !logHas(g.log(t), `"msg":"operation failed"`, `"op":"freeze"`, `"forced":true`) || logHas(g.log(t), `"msg":"operation failed"`, `"op":"freeze"`, `"downtime":0,`) {
		t.Fatalf("the log does not count the kill and its outage:\n%s", g.log(t))
	}
	fams := parseProm(t, filepath.Join(promDir, metrics.FileName))
	if value(t, fams, "quiesce_forced_stops_total", "target="+g.name(), "caller=veeam") != 1 || value(t, fams, "quiesce_last_outage_seconds", "target="+g.name()) <= 0 {
		t.Fatal("the metrics do not count the kill and its outage")
	}
	hist := g.mustRun(t, "history", "--json")
	if !strings.Contains(hist, `"freeze":"failed"`) || !strings.Contains(hist, `"outage_seconds":`) || !strings.Contains(hist, "had to be killed") {
		t.Fatalf("history does not show the kill and its outage: %s", hist)
	}
}
