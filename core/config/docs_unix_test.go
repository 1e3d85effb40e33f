//go:build !windows

package config

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDocsExamplesParse (Linux: the guide's paths are Linux paths): an
// administrator copies the examples of
// docs/configuration.md, comments and all, into quiesce.conf. Every ini
// block there must parse; a block that shows one section alone is given
// a [domino] section, as it would sit in a whole file.
func TestDocsExamplesParse(t *testing.T) {
	b, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```ini\n(.*?)```").FindAllStringSubmatch(string(b), -1)
	if len(blocks) < 5 {
		t.Fatalf("found %d ini blocks in docs/configuration.md; the test no longer reads them", len(blocks))
	}
	for i, m := range blocks {
		src := m[1]
		if !strings.Contains(src, "[domino]") && !strings.Contains(src, "[target ") {
			src = "[domino]\n" + src
		}
		if _, err := ParseNative("configuration.md", []byte(src)); err != nil {
			t.Errorf("ini block %d of docs/configuration.md does not parse: %v\n%s", i+1, err, m[1])
		}
	}
}
