// Package fleet holds the fleet view of quiesce's metrics: a Grafana
// dashboard and Prometheus alerting rules (installed under
// /usr/share/quiesce/fleet), and their test: the rules pass promtool
// (check and unit tests), and every query of the dashboard and the rules
// is valid PromQL that names only metrics quiesce writes.
package fleet

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/quiesce/quiesce/core/metrics"
)

const (
	rulesFile     = "quiesce-alerts.yml"
	rulesTest     = "quiesce-alerts.test.yml"
	dashboardFile = "quiesce-dashboard.json"
)

// promtool is Debian's (package prometheus); missing, the test is
// skipped, and fails in CI (CI=true), where .ci/run installs it.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("REQUIRED IN CI: promtool (Debian's prometheus, installed by .ci/run)")
	}
	t.Skip("SKIPPED (would fail in CI): promtool is not installed (apt-get install prometheus)")
	return ""
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// The rules load, lint clean, and their unit tests pass (each alert fires
// on the series quiesce writes when it should, and not beside).
func TestAlertRules(t *testing.T) {
	pt := promtool(t)
	out := run(t, pt, "check", "rules", "--lint=all", "--lint-fatal", rulesFile)
	if !strings.Contains(out, "SUCCESS: 10 rules found") {
		t.Errorf("promtool check rules: %s", out)
	}
	run(t, pt, "test", "rules", rulesTest)
}

// The alerts the issue asks for are there, each with a test that makes it
// fire.
func TestEveryAlertIsTested(t *testing.T) {
	rules, tests := read(t, rulesFile), read(t, rulesTest)
	alerts := regexp.MustCompile(`(?m)^\s+- alert: (\w+)$`).FindAllStringSubmatch(rules, -1)
	if len(alerts) != 10 {
		t.Fatalf("%d alerts in %s, want 10", len(alerts), rulesFile)
	}
	for _, a := range alerts {
		if !regexp.MustCompile(`alertname: ` + a[1] + `\n\s+exp_alerts:\n\s+- exp_labels`).MatchString(tests) {
			t.Errorf("%s: no test makes it fire", a[1])
		}
		if !regexp.MustCompile(`alertname: ` + a[1] + `\n\s+exp_alerts: \[\]`).MatchString(tests) {
			t.Errorf("%s: no test shows it silent", a[1])
		}
	}
	for _, want := range []string{"QuiesceFreezePastDeadline", "QuiesceThawFailed", "QuiesceForcedStop", "QuiesceOutageOverBudget",
		"QuiesceSnapshotNotQuiesced", "QuiesceClusterLockHeldTooLong", "QuiesceEtcdUnreachable"} {
		if !strings.Contains(rules, "- alert: "+want+"\n") {
			t.Errorf("no alert %s", want)
		}
	}
}

// Every query of the dashboard (panels, rows' panels, variables) and of
// the rules is PromQL promtool accepts, and names only metrics quiesce
// writes; every metric quiesce writes is shown or alerted on.
func TestQueriesUseQuiesceMetrics(t *testing.T) {
	dash := dashboardQueries(t)
	exprs := append(append([]string(nil), dash...), ruleExprs(t)...)
	known := map[string]bool{}
	for _, n := range metrics.Names() {
		known[n] = true
	}
	used := map[string]bool{}
	name := regexp.MustCompile(`quiesce_[a-z0-9_]+`)
	for _, e := range exprs {
		for _, n := range name.FindAllString(e, -1) {
			used[n] = true
			if !known[n] {
				t.Errorf("%q queries %s, which quiesce does not write", e, n)
			}
		}
	}
	for _, n := range metrics.Names() {
		if !used[n] {
			t.Errorf("%s is neither on the dashboard nor in an alert", n)
		}
	}
	// promtool parses PromQL in rule files: the dashboard's queries, with
	// Grafana's variables as a dashboard would fill them, as recording
	// rules.
	pt := promtool(t)
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	vars := strings.NewReplacer("$instance", ".*", "$cluster", ".*", "$__rate_interval", "5m", "$__range", "1d")
	for i, e := range dash {
		fmt.Fprintf(&b, "      - record: dashboard_query_%d\n        expr: %q\n", i, vars.Replace(e))
	}
	path := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := run(t, pt, "check", "rules", path)
	if want := fmt.Sprintf("SUCCESS: %d rules found", len(dash)); !strings.Contains(out, want) {
		t.Errorf("promtool check rules of the dashboard's queries: %s, want %s", out, want)
	}
}

// The dashboard is one Grafana can import: unique panel ids, each panel
// on the Prometheus chosen in its datasource variable, each query with a
// refId.
func TestDashboardShape(t *testing.T) {
	var d struct {
		UID, Title string
		Panels     []panel
		Templating struct{ List []struct{ Name, Type string } }
	}
	if err := json.Unmarshal([]byte(read(t, dashboardFile)), &d); err != nil {
		t.Fatal(err)
	}
	if d.UID == "" || d.Title == "" || len(d.Panels) == 0 {
		t.Fatalf("uid %q, title %q, %d panels", d.UID, d.Title, len(d.Panels))
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
	}
	if vars["datasource"] != "datasource" || vars["instance"] != "query" || vars["cluster"] != "query" {
		t.Errorf("variables %v, want datasource, instance and cluster", vars)
	}
	ids := map[int]bool{}
	for _, p := range flatten(d.Panels) {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: datasource %q, want ${datasource}", p.Title, p.Datasource.UID)
		}
		refs := map[string]bool{}
		for _, q := range p.Targets {
			if q.RefID == "" || refs[q.RefID] || q.Expr == "" {
				t.Errorf("panel %q: query %+v without a refId of its own, or empty", p.Title, q)
			}
			refs[q.RefID] = true
		}
	}
}

type panel struct {
	ID         int
	Type       string
	Title      string
	Datasource struct{ UID string }
	Targets    []struct {
		RefID string `json:"refId"`
		Expr  string
	}
	Panels []panel // a row's
}

func flatten(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, flatten(p.Panels)...)
	}
	return out
}

// dashboardQueries are every PromQL query of the dashboard: its panels'
// (rows' nested ones too) and its variables'.
func dashboardQueries(t *testing.T) []string {
	t.Helper()
	var d struct {
		Panels     []panel
		Templating struct {
			List []struct {
				Query json.RawMessage
			}
		}
	}
	if err := json.Unmarshal([]byte(read(t, dashboardFile)), &d); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range flatten(d.Panels) {
		for _, q := range p.Targets {
			out = append(out, q.Expr)
		}
	}
	values := regexp.MustCompile(`^label_values\((\w+), *\w+\)$`)
	for _, v := range d.Templating.List {
		var q struct{ Query string }
		if json.Unmarshal(v.Query, &q) != nil || q.Query == "" {
			continue // the datasource variable: "prometheus"
		}
		m := values.FindStringSubmatch(q.Query)
		if m == nil {
			t.Errorf("variable query %q is not label_values(METRIC, LABEL)", q.Query)
			continue
		}
		out = append(out, m[1])
	}
	sort.Strings(out)
	return out
}

// ruleExprs are the alerting rules' expressions.
func ruleExprs(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^\s+expr: (.+)$`).FindAllStringSubmatch(read(t, rulesFile), -1) {
		out = append(out, m[1])
	}
	if len(out) == 0 {
		t.Fatal("no expr in the rules")
	}
	return out
}

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
