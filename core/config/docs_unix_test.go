//go:build !windows

package config

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDocsExamplesParse (Linux: the guide's paths are Linux paths): an
// administrator copies the examples of docs/configuration.md and
// docs/cluster.md, comments and all, into quiesce.conf. Every ini
// block there must parse; a block that shows one section alone is given
// a [domino] section, as it would sit in a whole file.
func TestDocsExamplesParse(t *testing.T) {
	for file, least := range map[string]int{"configuration.md": 5, "cluster.md": 1} {
		b, err := os.ReadFile("../../docs/" + file)
		if err != nil {
			t.Fatal(err)
		}
		blocks := regexp.MustCompile("(?s)```ini\n(.*?)```").FindAllStringSubmatch(string(b), -1)
		if len(blocks) < least {
			t.Fatalf("found %d ini blocks in docs/%s; the test no longer reads them", len(blocks), file)
		}
		for i, m := range blocks {
			src := m[1]
			if !strings.Contains(src, "[domino]") && !strings.Contains(src, "[target ") {
				src = "[domino]\n" + src
			}
			if _, err := ParseNative(file, []byte(src)); err != nil {
				t.Errorf("ini block %d of docs/%s does not parse: %v\n%s", i+1, file, err, m[1])
			}
		}
	}
}
