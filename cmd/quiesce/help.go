package main

import "github.com/urfave/cli/v2"

// wantsHelp reports whether a command that parses its own arguments was
// asked for its help.
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "--help" || a == "-h" {
			return true
		}
	}
	return false
}

// showHelp prints a command's help on stdout.
func showHelp(c *cli.Context) error {
	cli.HelpPrinter(c.App.Writer, cli.CommandHelpTemplate, c.Command)
	return nil
}
