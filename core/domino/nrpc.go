package domino

import (
	"bufio"
	"io"
	"net"
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
	if addr := s.iniAddr(filepath.Join(s.cfg.Data, "notes.ini")); addr != "" {
		return addr
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(DefaultNRPCPort))
}

// iniAddr reads TCPIP_TcpIpAddress=0,IP[:PORT] from the notes.ini at
// path (HCL's "Binding an NRPC port to an IP address": the address alone,
// an IPv6 address in brackets); without a port, or with port 0, it is
// Domino's port 1352. A wildcard address is probed on the loopback
// address; an address that cannot be read is none. notes.ini is read as
// the Domino user: it lives in that user's data directory.
func (s *Server) iniAddr(path string) string {
	f, err := s.openUserFile(path)
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
		host, port, ok := nrpcHostPort(strings.TrimSpace(v))
		if !ok {
			return ""
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		return net.JoinHostPort(host, strconv.Itoa(port))
	}
	return ""
}

// nrpcHostPort reads HOST:PORT, HOST alone, [IPV6]:PORT, [IPV6] or a bare
// IPv6 address; no port, or port 0, is DefaultNRPCPort.
func nrpcHostPort(v string) (host string, port int, ok bool) {
	host, p, err := net.SplitHostPort(v)
	if err != nil {
		host, p = v, ""
		if len(v) >= 2 && v[0] == '[' && v[len(v)-1] == ']' {
			host = v[1 : len(v)-1]
		}
		if strings.ContainsAny(host, "[] ") || strings.Contains(host, ":") && net.ParseIP(host) == nil {
			return "", 0, false
		}
	}
	if p == "" {
		p = "0"
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 {
		return "", 0, false
	}
	if n == 0 {
		n = DefaultNRPCPort
	}
	return host, n, true
}

// ServerName is the server's Domino name, from notes.ini's ServerName
// (read as the Domino user: it lives in that user's data directory); ""
// when it cannot be read.
func (s *Server) ServerName() string {
	f, err := s.openUserFile(filepath.Join(s.cfg.Data, "notes.ini"))
	if err != nil {
		return ""
	}
	defer f.Close()
	return iniValue(f, "ServerName")
}

// iniValue is key's value in notes.ini's content (keys are
// case-insensitive).
func iniValue(r io.Reader, key string) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), key) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
