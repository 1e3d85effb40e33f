package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Cluster is the Domino cluster the [domino] server belongs to, as the
// [cluster] section describes it: its mates, and the etcd that keeps the
// cluster lock (core/cluster).
//
//	[cluster]
//	name = mail
//	mates = Mail2/Acme@mail2.acme.com:1352, Mail3/Acme@10.0.0.3
//	endpoints = https://etcd1.acme.com:2379, https://etcd2.acme.com:2379
//	ca_file = /etc/quiesce/etcd-ca.pem
//	cert_file = /etc/quiesce/etcd-client.pem
//	key_file = /etc/quiesce/etcd-client-key.pem
type Cluster struct {
	Name      string   // the cluster's name: its lock's key in etcd
	Line      int      // the section header's line, for messages
	Self      string   // this server's Domino name; "": notes.ini's ServerName
	Mates     []Mate   // the other servers of the cluster
	Endpoints []string // etcd's client URLs
	CAFile    string   // the CA etcd's server certificate is checked against; "": the system's
	CertFile  string   // client certificate (with KeyFile)
	KeyFile   string
	Prefix    string // key prefix in etcd
	MaxDown   int    // at most this many servers of the cluster down at once
	// Unreachable is what a stop does when etcd cannot be reached:
	// UnreachableFail (refuse) or UnreachableProceed.
	Unreachable string
	Timeout     time.Duration // one contact with etcd, before it counts as unreachable
	LockWait    time.Duration // the longest a freeze waits for the lock (a caller's budget may shorten it)
	Drain       time.Duration // Server_Restricted set this long before server -q; 0: no drain
	Replicate   bool          // "replicate MATE" with every mate after the start
}

// Mate is another server of the cluster: its Domino name (for the
// console's replicate) and where it serves NRPC.
type Mate struct {
	Name string
	Addr string // host:port
}

// What a stop-mode freeze does when etcd cannot be reached.
const (
	UnreachableFail    = "fail"    // refuse the freeze, Domino untouched
	UnreachableProceed = "proceed" // freeze without the lock when every mate answers on NRPC
)

// Defaults of [cluster].
const (
	DefaultClusterPrefix  = "/quiesce"
	DefaultEtcdTimeout    = 5 * time.Second
	DefaultClusterWait    = 10 * time.Minute
	DefaultClusterDrain   = 10 * time.Second
	DefaultClusterMaxDown = 1
)

func init() {
	nativeKeys["cluster"] = map[string]setter{
		"name":             clusterField(func(c *Cluster, v string) string { return clusterName(c, v) }),
		"self":             clusterField(func(c *Cluster, v string) string { c.Self = v; return "" }),
		"mates":            clusterField(mates),
		"endpoints":        clusterField(endpoints),
		"ca_file":          clusterField(func(c *Cluster, v string) string { return clusterPath(&c.CAFile, v) }),
		"cert_file":        clusterField(func(c *Cluster, v string) string { return clusterPath(&c.CertFile, v) }),
		"key_file":         clusterField(func(c *Cluster, v string) string { return clusterPath(&c.KeyFile, v) }),
		"prefix":           clusterField(prefix),
		"max_down":         clusterField(maxDown),
		"etcd_unreachable": clusterField(unreachable),
		"etcd_timeout":     clusterField(func(c *Cluster, v string) string { return positive(&c.Timeout, v) }),
		"lock_wait":        clusterField(func(c *Cluster, v string) string { return clusterDuration(&c.LockWait, v) }),
		"drain":            clusterField(func(c *Cluster, v string) string { return clusterDuration(&c.Drain, v) }),
		"replicate":        clusterField(replicate),
	}
}

// newCluster is a [cluster] section with its defaults.
func newCluster(line int) *Cluster {
	return &Cluster{Line: line, Prefix: DefaultClusterPrefix, MaxDown: DefaultClusterMaxDown, Unreachable: UnreachableFail,
		Timeout: DefaultEtcdTimeout, LockWait: DefaultClusterWait, Drain: DefaultClusterDrain, Replicate: true}
}

func clusterField(set func(c *Cluster, v string) string) setter {
	return func(d *File, v string) string { return set(d.Cluster, v) }
}

func clusterName(c *Cluster, v string) string {
	if !validName(v) {
		return fmt.Sprintf("%q is not a cluster name (lower-case letters, digits, - and _, at most 64)", v)
	}
	c.Name = v
	return ""
}

// mates parses "NAME@HOST[:PORT], ...": a Domino server name holds
// neither @ nor a comma; the port is Domino's 1352 when left out.
func mates(c *Cluster, v string) string {
	c.Mates = nil
	seen := map[string]bool{}
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		name, addr, ok := strings.Cut(item, "@")
		name, addr = strings.TrimSpace(name), strings.TrimSpace(addr)
		if !ok || name == "" || addr == "" {
			return fmt.Sprintf("%q is not NAME@HOST[:PORT] (the mate's Domino name, then where it serves NRPC)", item)
		}
		hostPort, msg := nrpcAddr(addr)
		if msg != "" {
			return fmt.Sprintf("mate %s: %s", name, msg)
		}
		if seen[strings.ToLower(name)] {
			return fmt.Sprintf("mate %s named twice", name)
		}
		seen[strings.ToLower(name)] = true
		c.Mates = append(c.Mates, Mate{Name: name, Addr: hostPort})
	}
	return ""
}

// nrpcAddr is HOST[:PORT] with Domino's port when none is given.
func nrpcAddr(v string) (string, string) {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		host, port = strings.Trim(v, "[]"), "1352"
	}
	n, perr := strconv.Atoi(port)
	if host == "" || strings.ContainsAny(host, " /") || perr != nil || n < 1 || n > 65535 {
		return "", fmt.Sprintf("%q is not HOST[:PORT]", v)
	}
	return net.JoinHostPort(host, port), ""
}

func endpoints(c *Cluster, v string) string {
	c.Endpoints = nil
	for _, e := range words(v) {
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Port() == "" {
			return fmt.Sprintf("%q is not an etcd client URL (http:// or https://HOST:PORT)", e)
		}
		c.Endpoints = append(c.Endpoints, e)
	}
	return ""
}

func clusterPath(field *string, v string) string {
	if !isAbs(v) {
		return fmt.Sprintf("%q is not an absolute path", v)
	}
	*field = v
	return ""
}

func prefix(c *Cluster, v string) string {
	if !strings.HasPrefix(v, "/") || strings.HasSuffix(v, "/") && v != "/" {
		return fmt.Sprintf("%q is not a key prefix (it begins with / and does not end with one)", v)
	}
	c.Prefix = strings.TrimSuffix(v, "/")
	return ""
}

func maxDown(c *Cluster, v string) string {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return fmt.Sprintf("%q is not a number of servers (1 or more)", v)
	}
	c.MaxDown = n
	return ""
}

func unreachable(c *Cluster, v string) string {
	if v != UnreachableFail && v != UnreachableProceed {
		return fmt.Sprintf("%q is not one of %s, %s", v, UnreachableFail, UnreachableProceed)
	}
	c.Unreachable = v
	return ""
}

func clusterDuration(field *time.Duration, v string) string {
	d, err := ParseDuration(v)
	if err != nil {
		return err.Error()
	}
	*field = d
	return ""
}

func replicate(c *Cluster, v string) string {
	b, ok := ParseBool(v)
	if !ok {
		return fmt.Sprintf("%q is not yes or no", v)
	}
	c.Replicate = b
	return ""
}

// validate checks the [cluster] section as a whole, once the file is read.
func (c *Cluster) validate(file string, hasDomino bool) error {
	bad := func(key, msg string) error {
		return &Error{File: file, Line: c.Line, Key: "cluster." + key, Msg: msg}
	}
	switch {
	case !hasDomino:
		return &Error{File: file, Line: c.Line, Key: "[cluster]", Msg: "a cluster is one of Domino servers: add the [domino] section it is for"}
	case c.Name == "":
		return bad("name", "missing: the cluster's name (its lock's key in etcd)")
	case len(c.Mates) == 0:
		return bad("mates", "missing: the other servers of the cluster, NAME@HOST[:PORT], ...")
	case len(c.Endpoints) == 0:
		return bad("endpoints", "missing: etcd's client URLs")
	case (c.CertFile == "") != (c.KeyFile == ""):
		return bad("cert_file", "cert_file and key_file come together (the client certificate and its key)")
	case c.MaxDown > len(c.Mates):
		return bad("max_down", fmt.Sprintf("%d would allow every server of the cluster down at once (it has %d): at most %d", c.MaxDown, len(c.Mates)+1, len(c.Mates)))
	}
	for _, m := range c.Mates {
		if c.Self != "" && strings.EqualFold(m.Name, c.Self) {
			return bad("mates", fmt.Sprintf("%s is this server (self): list only the others", m.Name))
		}
	}
	return nil
}
