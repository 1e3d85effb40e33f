package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/core/config"
)

func historyCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "history",
		Usage: "show the last freeze/thaw cycles per application from quiesce's log",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "target", Usage: "only this application (domino, a [target] name)"},
			&cli.IntFlag{Name: "count", Aliases: []string{"n"}, Value: 10, Usage: "cycles per application"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON, one object per cycle"},
		},
		Action: e.historyAction,
	}
}

func (e *env) historyAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return &exitError{code: ExitUsage, msg: fmt.Sprintf("%s: history takes no arguments (got %q)", e.prog, c.Args().First())}
	}
	if c.Int("count") < 1 {
		return &exitError{code: ExitUsage, msg: fmt.Sprintf("%s: -n must be at least 1", e.prog)}
	}
	f, path, err := e.openHistoryLog(c)
	if err != nil {
		return err
	}
	defer f.Close()
	cycles, err := readCycles(f)
	if err != nil {
		return &actionError{fmt.Errorf("%s: %w", path, err)}
	}
	cycles = lastCycles(cycles, c.String("target"), c.Int("count"))
	if c.Bool("json") {
		enc := json.NewEncoder(e.io.out)
		for _, cy := range cycles {
			if err := enc.Encode(cy); err != nil {
				return err
			}
		}
		return nil
	}
	printCycles(e.io.out, cycles)
	return nil
}

// rootLogFile is the log quiesce writes as root on Linux (logging.go's
// default), where every hook's cycles are.
const rootLogFile = "/var/log/quiesce/quiesce.log"

// logChoice is a log history may read and where that choice came from.
type logChoice struct{ path, from string }

// historyLogs are the logs history tries, in order: --log-file; else the
// configuration's log_file; else the default log. As root (and on
// Windows) that is the one log every run writes; another user reads the
// root's log, where the hooks write, and else the one its own runs write
// in the data directory.
func historyLogs(flag string, cfg config.File, windows, root bool) []logChoice {
	switch {
	case flag != "":
		return []logChoice{{flag, "--log-file"}}
	case cfg.LogFile != "":
		return []logChoice{{cfg.LogFile, "log_file in " + cfg.Source}}
	case windows || root:
		return []logChoice{{defaultLogFile(cfg), "the default log"}}
	}
	return []logChoice{{rootLogFile, "the log quiesce writes as root"},
		{filepath.Join(cfg.Data, "quiesce.log"), "the log quiesce writes as another user"}}
}

// openHistoryLog opens the first log of historyLogs that exists. Its
// error names every log it tried, why each could not be read, and how to
// name another one. It reads the configuration without opening the log
// for writing: history changes nothing.
func (e *env) openHistoryLog(c *cli.Context) (*os.File, string, error) {
	var cfg config.File
	flag := c.String("log-file")
	if flag == "" {
		path, err := config.Find(c.String("config"), e.configDefaults())
		if err == nil {
			cfg, err = config.Load(path)
		}
		if err != nil {
			return nil, "", &actionError{err}
		}
	}
	var why []string
	for _, l := range historyLogs(flag, cfg, runtime.GOOS == "windows", os.Geteuid() == 0) {
		f, err := os.Open(l.path)
		if err == nil {
			return f, l.path, nil
		}
		why = append(why, fmt.Sprintf("%s (%s): %s", l.path, l.from, historyReadError(err)))
	}
	return nil, "", &actionError{fmt.Errorf("cannot read the log: %s; name the log to read with --log-file", strings.Join(why, "; "))}
}

// historyReadError says why a log could not be opened.
func historyReadError(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file (quiesce has written nothing there)"
	case errors.Is(err, fs.ErrPermission):
		if os.Geteuid() != 0 {
			return "permission denied (quiesce's log is readable by root only: run history as root)"
		}
		return "permission denied"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// printCycles writes cycles as a table.
func printCycles(w io.Writer, cycles []cycle) {
	if len(cycles) == 0 {
		fmt.Fprintln(w, "no freeze or thaw in the log")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN\tTARGET\tCALLER\tFREEZE\tTHAW\tQUIESCED\tOUTAGE\tWINDOW\tWARNINGS")
	for _, cy := range cycles {
		warn := strings.Join(cy.Warnings, "; ")
		if cy.Error != "" {
			warn = strings.TrimPrefix(warn+"; error: "+cy.Error, "; ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cy.When.Local().Format("2006-01-02 15:04:05"), cell(cy.Target), cell(cy.Caller),
			cell(cy.Freeze), cell(cy.Thaw), yesNo(cy.Quiesced), seconds(cy.Outage), seconds(cy.Window), cell(warn))
	}
	tw.Flush()
}

// cell is a field as one cell of the table, "-" when empty. A control
// character (a newline or a tab in an error, a terminal escape) would
// break the row or act on the terminal: it is shown as a blank.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

func yesNo(b *bool) string {
	switch {
	case b == nil:
		return "-"
	case *b:
		return "yes"
	}
	return "no"
}

func seconds(s *float64) string {
	if s == nil {
		return "-"
	}
	ns := *s * float64(time.Second)
	if ns >= math.MaxInt64 {
		return strconv.FormatFloat(*s, 'g', 4, 64) + "s" // beyond a time.Duration
	}
	return time.Duration(ns).Round(100 * time.Millisecond).String()
}
