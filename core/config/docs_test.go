package config

import (
	"strings"
	"testing"
)

func TestSectionHeaderTakesAComment(t *testing.T) {
	d, err := ParseNative("q.conf", []byte("[domino]   # the server\nuser = notes\n[budgets]\t# defaults\nveeam = 4m\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d.User != "notes" || d.Budgets.Veeam.Minutes() != 4 {
		t.Errorf("parsed %q and veeam budget %v, want notes and 4m", d.User, d.Budgets.Veeam)
	}
	if _, err := ParseNative("q.conf", []byte("[domino]#x\n")); err == nil || !strings.Contains(err.Error(), "bad section header") {
		t.Errorf(`"[domino]#x" (no space before #, as for values) gave %v, want a bad section header`, err)
	}
}
