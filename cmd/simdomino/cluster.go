package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/timeline"
)

// The console commands of a server in a cluster that quiesce drives:
//
//	set config server_restricted=N   Server_Restricted (0 serves every open;
//	                                 1, 2: new database opens go to the
//	                                 mates, 1 for this server session only)
//	show config server_restricted    its value
//	replicate NAME [DB]              standard replication with server NAME
//
// Each change is in the timeline (restricted N, replicate NAME), and a
// restricted server says so in its NRPC greeting, so that a client that
// fails over as Domino's do (nrpcwatch.StartCluster) opens its databases
// on a mate.

// restrictedKey is the notes.ini setting, lower-case as the console
// passes it.
const restrictedKey = "server_restricted"

// restrictAtStart applies a persistent Server_Restricted (2, 4) from
// notes.ini; 1 and 3 last one server session, so a start clears them.
func (s *server) restrictAtStart() {
	if n, err := strconv.Atoi(s.ini.get(restrictedKey)); err == nil && (n == 2 || n == 4) {
		s.restricted.Store(int32(n))
	}
}

// consoleCluster answers the cluster commands; ok is false for any
// other. line is the command as typed (a server's name keeps its case).
// SimConsoleDelay=SECONDS in notes.ini makes each answer that late (a
// busy console; tests widen a window with it).
func (s *server) consoleCluster(line string) (reply string, ok bool) {
	reply, ok = s.clusterCommand(line)
	if n, err := readIni(s.data); ok && err == nil {
		time.Sleep(n.seconds("SimConsoleDelay", 0))
	}
	return reply, ok
}

func (s *server) clusterCommand(line string) (reply string, ok bool) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return "", false
	}
	switch strings.ToLower(f[0]) {
	case "set":
		return s.setConfig(f[1:])
	case "show":
		if len(f) == 3 && strings.EqualFold(f[1], "config") && strings.EqualFold(f[2], restrictedKey) {
			return fmt.Sprintf("SERVER_RESTRICTED=%d\n", s.restricted.Load()), true
		}
	case "replicate", "rep":
		return s.replicate(strings.TrimSpace(line[len(f[0]):])), true
	}
	return "", false
}

// setConfig is "set config KEY=VALUE" for Server_Restricted; other keys
// are not simulated.
func (s *server) setConfig(args []string) (string, bool) {
	if len(args) < 2 || !strings.EqualFold(args[0], "config") {
		return "", false
	}
	k, v, _ := strings.Cut(strings.Join(args[1:], ""), "=")
	if !strings.EqualFold(k, restrictedKey) {
		return "", false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 4 {
		return fmt.Sprintf("Invalid value for Server_Restricted: %q (0 to 4)\n", v), true
	}
	s.restricted.Store(int32(n))
	_ = timeline.Append(s.data, timeline.Restricted, strconv.Itoa(n))
	s.con.printf("Server_Restricted set to %d", n)
	return fmt.Sprintf("Server_Restricted set to %d\n", n), true
}

// replicate records a replication request with the server named in rest
// ("NAME", quoted when it holds spaces, then an optional database).
func (s *server) replicate(rest string) string {
	name := rest
	if strings.HasPrefix(rest, `"`) {
		if end := strings.Index(rest[1:], `"`); end >= 0 {
			name = rest[1 : end+1]
		}
	} else if i := strings.IndexByte(rest, ' '); i >= 0 {
		name = rest[:i]
	}
	if name == "" {
		return "Replicate: a server name is required\n"
	}
	_ = timeline.Append(s.data, timeline.Replicate, name)
	s.con.printf("Replicator: Starting replication with server %s", name)
	return fmt.Sprintf("Replicator: Starting replication with server %s\n", name)
}
