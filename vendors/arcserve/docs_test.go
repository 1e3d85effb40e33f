package arcserve

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ExitRule is the plan's exit rule every guide and install arcserve give,
// for quiesce arcserve and for the rc_domino drop-in alike.
const ExitRule = "On exit code 0: Run Job; any other code: Fail Job."

// The guides state one exit rule for Arcserve, word for word, and no other
// (no "0 and 150", no rule of their own); rc_domino.md says its path has
// no watchdog; install arcserve prints the same rule.
func TestOneExitRuleEverywhere(t *testing.T) {
	docs := filepath.Join("..", "..", "docs")
	for _, name := range []string{"arcserve.md", "rc_domino.md", "callers.md"} {
		b, err := os.ReadFile(filepath.Join(docs, name))
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(strings.Fields(string(b)), " ")
		if !strings.Contains(text, "**"+ExitRule+"**") {
			t.Errorf("%s does not state the exit rule %q", name, ExitRule)
		}
		for _, other := range []string{"other than 0 and 150", "otherwise Fail Job", "0 and 150"} {
			if strings.Contains(text, other) {
				t.Errorf("%s states another rule: %q", name, other)
			}
		}
		if name == "rc_domino.md" && !strings.Contains(text, "This path has no watchdog") {
			t.Errorf("rc_domino.md does not say that its path has no watchdog")
		}
	}
	var out bytes.Buffer
	Instructions(&out, "/usr/local/sbin/quiesce")
	if !strings.Contains(out.String(), ExitRule) {
		t.Errorf("install arcserve does not print the exit rule:\n%s", out.String())
	}
}
