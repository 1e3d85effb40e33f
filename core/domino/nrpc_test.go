package domino

import (
	"strings"
	"testing"
)

// The NRPC address is read from every form of TCPIP_TcpIpAddress HCL
// documents: the address alone and an IPv6 address in brackets mean
// Domino's port 1352 on that address (they were read as no address, and
// the probe went to 127.0.0.1, where a server bound to one address does
// not listen); port 0 is the default port too.
func TestIniAddrForms(t *testing.T) {
	for ini, want := range map[string]string{
		"TCPIP_TcpIpAddress=0,127.0.0.1:1352":          "127.0.0.1:1352",
		"TCPIP_TcpIpAddress=0,130.123.45.1":            "130.123.45.1:1352",
		"TCPIP_TcpIpAddress=0,[fe80::1]":               "[fe80::1]:1352",
		"TCPIP_TcpIpAddress=0,[fe80::1]:1353":          "[fe80::1]:1353",
		"TCPIP_TcpIpAddress=0,fe80::1":                 "[fe80::1]:1352",
		"TCPIP_TcpIpAddress=0,10.0.0.3:0":              "10.0.0.3:1352",
		"tcpip_tcpipaddress = 0,0.0.0.0:1353":          "127.0.0.1:1353",
		"TCPIP_TcpIpAddress=0,domino.example.com":      "domino.example.com:1352",
		"TCPIP_TcpIpAddress=0,10.0.0.3:70000":          "",
		"TCPIP_TcpIpAddress=0,10.0.0.3:nrpc":           "",
		"TCPIP_TcpIpAddress=0,[fe80::1":                "",
		"TCPIP_TcpIpAddress=0,not an address":          "",
		"TCPIP_TcpIpAddress=0,1:2:3\nTCPIP=TCP,0,15,0": "",
	} {
		if got := iniAddrIn(strings.NewReader("[Notes]\n" + ini + "\n")); got != want {
			t.Errorf("%q: %q, want %q", ini, got, want)
		}
	}
}

// notes.ini's ServerName names the server in its cluster: keys are
// case-insensitive, blanks around them ignored, the first one counts.
func TestIniValue(t *testing.T) {
	ini := "[Notes]\nKitType=2\n servername = Mail1/Acme \nServerName=Other/Acme\nServerNameX=no\n"
	if got := iniValue(strings.NewReader(ini), "ServerName"); got != "Mail1/Acme" {
		t.Errorf("ServerName: %q", got)
	}
	if got := iniValue(strings.NewReader(ini), "Missing"); got != "" {
		t.Errorf("a missing key: %q", got)
	}
}
