package engine

import (
	"fmt"
	"path/filepath"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/freeze"
)

// databaseInstance is a database server as an application instance: its
// data directory (symbolic links resolved) when the configuration names
// it, else where it listens. Two sections that describe one server reach
// one freeze, whatever they call it.
func databaseInstance(g config.Generic) freeze.Instance {
	ident := "socket " + g.DB.Socket
	if g.Kind == config.KindPostgreSQL {
		ident = fmt.Sprintf("socket %s/.s.PGSQL.%d", g.DB.Socket, g.DB.Port)
	}
	if d := g.DB.DataDir; d != "" {
		if real, err := filepath.EvalSymlinks(d); err == nil {
			d = real
		}
		ident = "data " + d
	}
	return freeze.Instance{Kind: g.Kind, Ident: ident, Name: g.Name}
}
