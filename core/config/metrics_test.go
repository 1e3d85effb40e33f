//go:build linux

package config

import (
	"strings"
	"testing"
)

func TestMetricsTextfileDir(t *testing.T) {
	d, err := ParseNative("q.conf", []byte("[domino]\n\n[metrics]\ntextfile_dir = /var/lib/node_exporter/textfile_collector/\n"))
	if err != nil || d.Metrics.TextfileDir != "/var/lib/node_exporter/textfile_collector" {
		t.Fatalf("%+v %v", d.Metrics, err)
	}
	if d, _ := ParseNative("q.conf", []byte("[domino]\n")); d.Metrics.TextfileDir != "" {
		t.Fatalf("metrics are off by default: %+v", d.Metrics)
	}
	if _, err := ParseNative("q.conf", []byte("[domino]\n[metrics]\ntextfile_dir = textfiles\n")); err == nil || !strings.Contains(err.Error(), "q.conf:3: metrics.textfile_dir") {
		t.Fatalf("relative directory: %v", err)
	}
	if _, err := ParseNative("q.conf", []byte("[domino]\n[metrics]\ndir = /x\n")); err == nil || !strings.Contains(err.Error(), "metrics.dir") {
		t.Fatalf("unknown key: %v", err)
	}
	rc, err := ParseRcDomino("rc", []byte("DOMINO_QUIESCE_METRICS_DIR=/var/lib/prometheus/node-exporter\n"), noEnv)
	if err != nil || rc.Metrics.TextfileDir != "/var/lib/prometheus/node-exporter" {
		t.Fatalf("rc_domino_config: %+v %v", rc.Metrics, err)
	}
}
