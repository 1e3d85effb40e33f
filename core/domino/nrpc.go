package domino

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultNRPCPort is Domino's NRPC port.
const DefaultNRPCPort = 1352

// nrpcAddr is where the server's NRPC port can be reached: the configured
// port, else TCPIP_TcpIpAddress from notes.ini, else port 1352 on the
// loopback address.
func (s *Server) nrpcAddr() string {
	if s.cfg.Port != 0 {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.cfg.Port))
	}
	if addr := iniAddr(filepath.Join(s.cfg.Data, "notes.ini")); addr != "" {
		return addr
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(DefaultNRPCPort))
}

// iniAddr reads TCPIP_TcpIpAddress=0,IP:PORT from the notes.ini at path;
// a wildcard address is probed on the loopback address.
func iniAddr(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	return iniAddrIn(f)
}

// iniAddrIn is iniAddr of notes.ini's content.
func iniAddrIn(r io.Reader) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "TCPIP_TcpIpAddress") {
			continue
		}
		if _, after, ok := strings.Cut(v, ","); ok {
			v = after
		}
		host, port, err := net.SplitHostPort(strings.TrimSpace(v))
		if err != nil {
			return ""
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		return net.JoinHostPort(host, port)
	}
	return ""
}
