package domino

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"testing"
)

// Fuzz targets of the notes.ini readers: where Domino's NRPC port is
// probed, and whether Domino's VSS writer is configured. Seeds: the
// notes.ini simdomino writes, the forms HCL documents, and
// testdata/fuzz/. "make fuzz" fuzzes them longer.

var notesINISeeds = []string{
	"[Notes]\nServerName=SimServer/SimOrg\nServerTasks=update,backupvss\nTCPIP_TcpIpAddress=0,127.0.0.1:1352\nSimShutdownSeconds=2\n",
	"TCPIP_TcpIpAddress=0,130.123.45.1\n",                    // HCL: bound to an address, the default port
	"TCPIP_TcpIpAddress=0,[fe80::1]\r\n",                     // HCL: IPv6 in brackets
	"TCPIP_TcpIpAddress=0,10.0.0.3:0\nServerTasks=Replica\n", // port 0: the default port
	"tcpip_tcpipaddress = 0,0.0.0.0:1353\n",
	"ServerTasks=Update,Replica,Router,AMgr,AdminP,CalConn,Event,Sched,HTTP, BackupVSS \n",
	"Ports=TCPIP\nTCPIP=TCP, 0, 15, 0\n",
	"",
}

// FuzzIniAddr: the NRPC address read from notes.ini is none, or one a
// probe can dial: a host that is not a wildcard, a port from 1 to 65535.
// It is the first TCPIP_TcpIpAddress's: lines before and after that do
// not set it change nothing.
func FuzzIniAddr(f *testing.F) {
	for _, s := range notesINISeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		addr := iniAddrIn(bytes.NewReader(data))
		if addr != "" {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				t.Fatalf("%q: %v", addr, err)
			}
			if host == "" || host == "0.0.0.0" || host == "::" {
				t.Fatalf("%q: a wildcard host", addr)
			}
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				t.Fatalf("%q: port %q cannot be dialed", addr, port)
			}
		}
		around := append(append([]byte("[Notes]\nTCPIP=TCP, 0, 15, 0\n"), data...), "\nTCPIP_TcpIpAddress=0,192.0.2.1:9\n"...)
		if got := iniAddrIn(bytes.NewReader(around)); got != addr && !(addr == "" && got == "192.0.2.1:9") {
			t.Fatalf("%q alone, %q with lines around it", addr, got)
		}
	})
}

// FuzzVSSWriter: the VSS writer is configured only when a ServerTasks
// line names backupvss; other lines change nothing.
func FuzzVSSWriter(f *testing.F) {
	for _, s := range notesINISeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		on := vssWriterIn(bytes.NewReader(data))
		if on && !strings.Contains(strings.ToLower(string(data)), VSSTask) {
			t.Fatal("configured, yet backupvss is nowhere")
		}
		around := append(append([]byte("[Notes]\nServerTasksAt1=backupvss\n"), data...), "\nServerTasks_=backupvss\n"...)
		if vssWriterIn(bytes.NewReader(around)) != on {
			t.Fatal("lines that are not ServerTasks changed the answer")
		}
		if !vssWriterIn(bytes.NewReader(append(append([]byte{}, data...), "\nServerTasks=Update, BackupVSS\n"...))) {
			t.Fatal("a ServerTasks line with backupvss is not seen")
		}
	})
}
