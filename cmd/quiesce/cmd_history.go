package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/urfave/cli/v2"
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
	path := c.String("log-file")
	if path == "" {
		if _, err := e.config(c); err != nil {
			return err
		}
		path = e.logPath
	}
	f, err := os.Open(path)
	if err != nil {
		return &actionError{fmt.Errorf("cannot read the log: %w", err)}
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

// printCycles writes cycles as a table.
func printCycles(w io.Writer, cycles []cycle) {
	if len(cycles) == 0 {
		fmt.Fprintln(w, "no freeze or thaw in the log")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN\tTARGET\tCALLER\tFREEZE\tTHAW\tOUTAGE\tWINDOW\tWARNINGS")
	for _, cy := range cycles {
		warn := strings.Join(cy.Warnings, "; ")
		if cy.Error != "" {
			warn = strings.TrimPrefix(warn+"; error: "+cy.Error, "; ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cy.When.Local().Format("2006-01-02 15:04:05"), cell(cy.Target), cell(cy.Caller),
			cell(cy.Freeze), cell(cy.Thaw), seconds(cy.Outage), seconds(cy.Window), cell(warn))
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
