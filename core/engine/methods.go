package engine

import (
	"fmt"
	"os"
	"strings"

	"github.com/quiesce/quiesce/core/cluster"
	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/core/domino"
	"github.com/quiesce/quiesce/core/freeze"
	"github.com/quiesce/quiesce/core/freeze/stopstart"
	"github.com/quiesce/quiesce/core/generic"
	"github.com/quiesce/quiesce/core/holder"
	"github.com/quiesce/quiesce/core/mariadb"
	"github.com/quiesce/quiesce/core/online"
	"github.com/quiesce/quiesce/core/postgresql"
	"github.com/quiesce/quiesce/core/runas"
	"github.com/quiesce/quiesce/core/state"
)

// App is one configured application instance, as the method registry
// sees it.
type App struct {
	Kind     string // "domino", "target" for a [target NAME], or its database kind (kind = postgresql, mariadb)
	Instance freeze.Instance
	Config   config.File
	Domino   *domino.Server  // Kind "domino"
	Target   *generic.Target // Kind "target"
	Generic  config.Generic  // Kind "target": its section
}

// Method is the configured method word of the application: auto, online
// or stop.
func (a App) Method() string {
	if a.Kind == domino.TargetName {
		return a.Config.Online.Method
	}
	if a.Generic.Method == "" {
		return config.MethodStop
	}
	return a.Generic.Method
}

// Spec is one freeze method in the registry: the kinds of instance it
// serves, and how it is built for one.
type Spec struct {
	Name string
	// Kinds are the instance kinds it serves; none: every kind.
	Kinds []string
	// Online: it freezes without an outage (method = online or auto
	// pick it); otherwise it is the stop, every instance's last resort.
	Online bool
	New    func(a App, d Deps, p freeze.Policy) (freeze.Method, error)
	// Lock is the database lock its holders take (core/holder), for the
	// hidden hold command; nil: the method starts no holder.
	Lock holder.Factory
}

func (s Spec) serves(kind string) bool {
	if len(s.Kinds) == 0 {
		return true
	}
	for _, k := range s.Kinds {
		if k == kind {
			return true
		}
	}
	return false
}

// Registry is the list of freeze methods.
type Registry []Spec

// Methods is the registry of freeze methods. Adding one is its own
// package and one line here.
func Methods() Registry {
	return Registry{
		{Name: online.Name, Kinds: []string{domino.TargetName}, Online: true, New: newDominoBackup},
		{Name: mariadb.Name, Kinds: []string{mariadb.Kind}, Online: true, New: newMariaDB, Lock: mariadb.NewLock},
		{Name: postgresql.Name, Kinds: []string{postgresql.Kind}, Online: true, New: newPostgreSQL, Lock: postgresql.NewLock},
		{Name: stopstart.Name, New: newStop},
	}
}

// For builds a's methods in the order a freeze tries them: with method =
// stop the stop alone; with online the kind's online method (the stop
// after it only records a server that is not running); with auto the
// online method, falling back to the stop.
func (r Registry) For(a App, d Deps, p freeze.Policy) ([]freeze.Method, bool, error) {
	var online, stop *Spec
	for i := range r {
		s := &r[i]
		switch {
		case !s.serves(a.Kind):
		case s.Online && online == nil:
			online = s
		case !s.Online && stop == nil:
			stop = s
		}
	}
	if stop == nil {
		return nil, false, fmt.Errorf("no stop method for %s", a.Instance.Name)
	}
	word := a.Method()
	var specs []*Spec
	switch {
	case !a.canStop() && online != nil && word == config.MethodOnline:
		specs = []*Spec{online} // a database without a manager: nothing to stop it by
	case word == config.MethodStop:
		specs = []*Spec{stop}
	case online == nil && word == config.MethodOnline:
		return nil, false, &config.Error{File: a.Config.Source, Key: a.methodKey(), Msg: "no online mode for " + a.Instance.Name + " (use stop)"}
	case online == nil:
		specs = []*Spec{stop}
	default:
		specs = []*Spec{online, stop}
	}
	var out []freeze.Method
	for _, s := range specs {
		m, err := s.New(a, d, p)
		if err != nil {
			return nil, false, err
		}
		out = append(out, m)
	}
	return out, word == config.MethodAuto && len(out) > 1, nil
}

// canStop reports whether the application can be stopped and started:
// a database target names no manager when it is frozen online only.
func (a App) canStop() bool {
	return a.Target != nil && (!a.Generic.IsDatabase() || a.Generic.Manager != "")
}

// Lock is the lock factory of the database kind, for a holder process;
// nil when no method of the registry holds that kind.
func (r Registry) Lock(kind string) holder.Factory {
	for _, s := range r {
		if s.Lock != nil && s.serves(kind) {
			return s.Lock
		}
	}
	return nil
}

func (a App) methodKey() string {
	if a.Kind == domino.TargetName {
		return "domino.method"
	}
	return "target " + a.Generic.Name + ".method"
}

// newStop is the stop method of any application; a Domino server in a
// cluster ([cluster]) stops under the cluster's lock.
func newStop(a App, d Deps, p freeze.Policy) (freeze.Method, error) {
	var t stopstart.Target
	switch a.Kind {
	case domino.TargetName:
		t = domino.Freezable{S: a.Domino}
	default:
		t = a.Target
	}
	m := stopstart.New(t, a.Instance.Name, stopstart.Options{AcceptCrashed: p.CrashConsistent})
	if c := a.cluster(d); c != nil {
		return cluster.NewStop(m, c, a.Domino, a.Config.StartTimeout), nil
	}
	return m, nil
}

// newDominoBackup is Domino's online method: Domino Backup's backup mode;
// in a cluster, recorded beside the mates' freezes.
func newDominoBackup(a App, d Deps, _ freeze.Policy) (freeze.Method, error) {
	o := a.Config.Online
	set := online.DefaultSettings
	set.EnterTimeout, set.MaxWindow, set.ReleaseTimeout, set.DeltaDir = o.EnterTimeout, o.MaxWindow, o.ReleaseTimeout, o.DeltaDir
	m := online.New(a.Domino, set, d.Log, d.Clock)
	if c := a.cluster(d); c != nil {
		return cluster.NewOnline(m, c), nil
	}
	return m, nil
}

// cluster is the Domino cluster the server belongs to; nil for any other
// application, or a server in none.
func (a App) cluster(d Deps) *cluster.Cluster {
	if a.Kind != domino.TargetName || a.Config.Cluster == nil {
		return nil
	}
	return cluster.New(*a.Config.Cluster, ClusterSelf(a.Config, a.Domino), d.Log, d.Clock)
}

// ClusterSelf is the server's name in its cluster: [cluster] self, else
// notes.ini's ServerName, else the host's name.
func ClusterSelf(cfg config.File, srv *domino.Server) string {
	if cfg.Cluster != nil && cfg.Cluster.Self != "" {
		return cfg.Cluster.Self
	}
	if srv != nil {
		if n := srv.ServerName(); n != "" {
			return n
		}
	}
	h, _ := os.Hostname()
	return h
}

// newMariaDB is a MariaDB/MySQL server's online method: its backup
// lock, kept by a holder.
func newMariaDB(a App, d Deps, p freeze.Policy) (freeze.Method, error) {
	return mariadb.New(a.Generic, a.Config.Source, d.Holder, p, d.Log, d.Clock)
}

// newPostgreSQL is a PostgreSQL server's online method: a CHECKPOINT, or
// pg_backup_start kept by a holder.
func newPostgreSQL(a App, d Deps, p freeze.Policy) (freeze.Method, error) {
	return postgresql.New(a.Generic, a.Config.Source, d.Holder, p, d.Log, d.Clock)
}

// adopt reports whether a record version 1 kept under one of the
// instance's names is this instance's: version 1 knew one Domino per
// state directory, so its "domino" record is the Domino that is stopped
// (a freeze stopped it) or any (nothing was stopped), and its online
// record the Domino whose status file carries the backup's token; a
// [target]'s record is the target of that name.
func (a App) adopt(l state.Legacy) bool {
	if a.Kind != domino.TargetName {
		return true
	}
	if l.Backup != nil {
		b, err := runas.ReadFile(a.Domino.Account(), a.Domino.Config().Data+"/"+online.StatusFile, 16<<10)
		return err == nil && strings.Contains(string(b), "token="+l.Backup.Token)
	}
	if !l.StoppedByFreeze {
		return true
	}
	running, err := domino.Freezable{S: a.Domino}.Running()
	return err == nil && !running
}
