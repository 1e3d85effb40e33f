package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// parseFlags parses a tool command's arguments. -h or --help prints the
// command's help on stdout (exit 0); a wrong flag prints the error and the
// help on stderr (exit 2). ok is true when the command should go on.
func parseFlags(fs *flag.FlagSet, synopsis string, args []string, stdout, stderr io.Writer) (code int, ok bool) {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		printHelp(fs, synopsis, stdout)
		return 0, false
	}
	fmt.Fprintf(stderr, "simdomino %s: %v\n", fs.Name(), err)
	printHelp(fs, synopsis, stderr)
	return 2, false
}

func printHelp(fs *flag.FlagSet, synopsis string, w io.Writer) {
	fmt.Fprintf(w, "usage: %s\n", synopsis)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}
