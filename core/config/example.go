package config

import (
	"bufio"
	"bytes"
	"strings"
)

// commentsOnly reports whether the file at path holds nothing but blank
// lines and # comments, as the example /etc/quiesce/quiesce.conf that the
// .deb and .rpm install does until the administrator fills it in. Such a
// file must not shadow an existing rc_domino_config: installing the
// package changes nothing in how quiesce finds Domino. A file that cannot
// be read is not "comments only": Load reports why.
func commentsOnly(path string) bool {
	b, err := ReadSafe(path)
	if err != nil {
		return false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			return false
		}
	}
	return sc.Err() == nil
}
