package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ini is a parsed notes.ini: Domino keys are case-insensitive.
type ini map[string]string

func readIni(dataDir string) (ini, error) {
	f, err := os.Open(filepath.Join(dataDir, "notes.ini"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := ini{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "[") || strings.HasPrefix(line, ";") {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			out[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	return out, sc.Err()
}

func (n ini) get(key string) string { return n[strings.ToLower(key)] }

func (n ini) seconds(key string, def time.Duration) time.Duration {
	v := n.get(key)
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 {
		return def
	}
	return time.Duration(f * float64(time.Second))
}

func (n ini) flag(key string) bool {
	v := strings.ToLower(n.get(key))
	return v == "1" || v == "yes" || v == "true"
}

// is reports whether key names task (case-insensitive, comma-separated list).
func (n ini) names(key, task string) bool {
	for _, t := range strings.Split(n.get(key), ",") {
		if strings.EqualFold(strings.TrimSpace(t), task) {
			return true
		}
	}
	return false
}

func (n ini) tasks() []string {
	var out []string
	for _, t := range strings.Split(n.get("ServerTasks"), ",") {
		if t = strings.ToLower(strings.TrimSpace(t)); t != "" && t != "server" {
			out = append(out, t)
		}
	}
	return out
}

// nrpcAddr returns the address to listen on, from
// TCPIP_TcpIpAddress=0,IP:PORT (default 127.0.0.1:1352).
func (n ini) nrpcAddr() (string, error) {
	v := n.get("TCPIP_TcpIpAddress")
	if v == "" {
		return "127.0.0.1:1352", nil
	}
	if _, after, ok := strings.Cut(v, ","); ok {
		v = after
	}
	if _, _, err := net.SplitHostPort(v); err != nil {
		return "", fmt.Errorf("notes.ini TCPIP_TcpIpAddress=%q: %w", n.get("TCPIP_TcpIpAddress"), err)
	}
	return v, nil
}

// dataDirFromArgs returns the data directory: the directory of a
// "=/path/notes.ini" argument, else the working directory.
func dataDirFromArgs(args []string) (string, error) {
	for _, a := range args {
		if strings.HasPrefix(a, "=") {
			return filepath.Dir(strings.TrimPrefix(a, "=")), nil
		}
	}
	return os.Getwd()
}
