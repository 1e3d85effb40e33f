//go:build linux

package config

import (
	"strings"
	"testing"
	"time"
)

func TestOnlineMethod(t *testing.T) {
	d, err := ParseNative("q.conf", []byte("[domino]\nmethod = online\nbackup_max_window = 90s\ndelta_dir = /local/backup/nsf\n"))
	if err != nil || d.Online.Method != MethodOnline || d.Online.MaxWindow != 90*time.Second || d.Online.DeltaDir != "/local/backup/nsf" {
		t.Fatalf("%+v %v", d.Online, err)
	}
	if d, _ := ParseNative("q.conf", []byte("[domino]\n")); d.Online.Method != MethodAuto || d.Online.EnterTimeout != 120*time.Second {
		t.Fatalf("defaults: %+v", d.Online)
	}
	if _, err := ParseNative("q.conf", []byte("[domino]\nmethod = snapshot\n")); err == nil || !strings.Contains(err.Error(), "q.conf:2: domino.method") {
		t.Fatalf("bad method: %v", err)
	}
	rc, err := ParseRcDomino("rc", []byte("DOMINO_QUIESCE_METHOD=stop\n"), noEnv)
	if err != nil || rc.Online.Method != MethodStop {
		t.Fatalf("rc_domino_config: %+v %v", rc.Online, err)
	}
	if _, err := ParseRcDomino("rc", []byte("DOMINO_QUIESCE_METHOD=fast\n"), noEnv); err == nil || !strings.Contains(err.Error(), "DOMINO_QUIESCE_METHOD") {
		t.Fatalf("bad rc method: %v", err)
	}
}
