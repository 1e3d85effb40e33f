package config

import (
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

const clusterDomino = "[domino]\nuser = notes\n"

// osPath is the absolute path p (written with /) on this system: on
// Windows, on drive C:.
func osPath(p string) string {
	if runtime.GOOS == "windows" {
		return "C:" + p
	}
	return p
}

func TestClusterSection(t *testing.T) {
	d, err := ParseNative("q.conf", []byte(clusterDomino+`[cluster]
name = mail
self = Mail1/Acme
mates = Mail2/Acme@mail2.acme.com:1353, Mail 3/Acme@10.0.0.3, Mail4/Acme@[fe80::1]:1352
endpoints = https://etcd1:2379, https://etcd2:2379
ca_file = `+osPath("/etc/quiesce/ca.pem")+`
cert_file = `+osPath("/etc/quiesce/client.pem")+`
key_file = `+osPath("/etc/quiesce/client-key.pem")+`
prefix = /acme/quiesce
max_down = 2
etcd_unreachable = proceed
etcd_timeout = 3s
lock_wait = 2m
drain = 0
replicate = no
`))
	if err != nil {
		t.Fatal(err)
	}
	c := d.Cluster
	want := Cluster{Name: "mail", Line: 3, Self: "Mail1/Acme",
		Mates:     []Mate{{"Mail2/Acme", "mail2.acme.com:1353"}, {"Mail 3/Acme", "10.0.0.3:1352"}, {"Mail4/Acme", "[fe80::1]:1352"}},
		Endpoints: []string{"https://etcd1:2379", "https://etcd2:2379"}, CAFile: osPath("/etc/quiesce/ca.pem"), CertFile: osPath("/etc/quiesce/client.pem"),
		KeyFile: osPath("/etc/quiesce/client-key.pem"), Prefix: "/acme/quiesce", MaxDown: 2, Unreachable: UnreachableProceed, Timeout: 3 * time.Second,
		LockWait: 2 * time.Minute}
	if c == nil || !reflect.DeepEqual(*c, want) {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
}

func TestClusterDefaults(t *testing.T) {
	d, err := ParseNative("q.conf", []byte(clusterDomino+"[cluster]\nname = mail\nmates = M2/A@h2\nendpoints = http://127.0.0.1:2379\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := d.Cluster
	if c.MaxDown != 1 || c.Unreachable != UnreachableFail || c.Drain != DefaultClusterDrain || !c.Replicate || c.Prefix != "/quiesce" ||
		c.Timeout != DefaultEtcdTimeout || c.LockWait != DefaultClusterWait {
		t.Errorf("defaults: %+v", c)
	}
	if d, _ := ParseNative("q.conf", []byte(clusterDomino)); d.Cluster != nil {
		t.Errorf("no [cluster]: got %+v", d.Cluster)
	}
}

// Every mistake is one line naming the file, the line and the key.
func TestClusterErrors(t *testing.T) {
	base := "name = mail\nmates = M2/A@h2, M3/A@h3\nendpoints = http://127.0.0.1:2379\n"
	for _, tc := range []struct{ body, want string }{
		{"mates = M2/A@h2\nendpoints = http://e:1\n", "q.conf:3: cluster.name: missing"},
		{"name = mail\nendpoints = http://e:1\n", "cluster.mates: missing"},
		{"name = mail\nmates = M2/A@h2\n", "cluster.endpoints: missing"},
		{"name = Mail\n", `q.conf:4: cluster.name: "Mail" is not a cluster name`},
		{"mates = mail2.acme.com\n", `cluster.mates: "mail2.acme.com" is not NAME@HOST[:PORT]`},
		{"mates = M2/A@h2:99999\n", `cluster.mates: mate M2/A: "h2:99999" is not HOST[:PORT]`},
		{"mates = M2/A@h2, m2/a@h3\n", "mate m2/a named twice"},
		{"endpoints = etcd1:2379\n", `"etcd1:2379" is not an etcd client URL`},
		{"endpoints = https://etcd1\n", `"https://etcd1" is not an etcd client URL`},
		{"ca_file = ca.pem\n", `cluster.ca_file: "ca.pem" is not an absolute path`},
		{base + "cert_file = " + osPath("/c.pem") + "\n", "cluster.cert_file: cert_file and key_file come together"},
		{base + "max_down = 3\n", "cluster.max_down: 3 would allow every server of the cluster down at once (it has 3): at most 2"},
		{"max_down = 0\n", `cluster.max_down: "0" is not a number of servers`},
		{"etcd_unreachable = ignore\n", `cluster.etcd_unreachable: "ignore" is not one of fail, proceed`},
		{"etcd_timeout = 0\n", "cluster.etcd_timeout"},
		{"prefix = quiesce\n", `cluster.prefix: "quiesce" is not a key prefix`},
		{base + "self = M2/A\n", "cluster.mates: M2/A is this server (self)"},
		{"frobnicate = 1\n", "cluster.frobnicate: unknown key"},
	} {
		_, err := ParseNative("q.conf", []byte(clusterDomino+"[cluster]\n"+tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: got %v, want one line with %q", tc.body, err, tc.want)
		}
	}
	tru, x := osPath("/bin/true"), osPath("/bin/x")
	_, err := ParseNative("q.conf", []byte("[target x]\nmanager = commands\nstart = [\""+tru+"\"]\nstop = [\""+tru+"\"]\nprocess_path = "+x+"\nready_tcp = 127.0.0.1:1\n[cluster]\n"+base))
	if err == nil || !strings.Contains(err.Error(), "[cluster]: a cluster is one of Domino servers") {
		t.Errorf("[cluster] without [domino]: %v", err)
	}
}
