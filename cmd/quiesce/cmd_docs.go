package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
)

// docsName is the program the man page and the completion scripts
// describe, whatever name the binary was run under.
const docsName = "quiesce"

// docsCommands are the hidden commands that print the man page and the
// shell completion scripts from the CLI definition itself: "make dist"
// runs them, so the installed page and scripts never drift from the CLI.
func docsCommands(e *env) []*cli.Command {
	return []*cli.Command{
		{
			Name:   "man",
			Usage:  "print the man page (roff, section 8)",
			Hidden: true,
			Action: func(c *cli.Context) error {
				page, err := manPage(c.App)
				if err != nil {
					return &actionError{err}
				}
				_, err = fmt.Fprint(e.io.out, page)
				return err
			},
		},
		{
			Name:      "completion",
			Usage:     "print the shell completion script for bash or zsh",
			ArgsUsage: "bash|zsh",
			Hidden:    true,
			Action: func(c *cli.Context) error {
				tree := commandTree(c.App)
				switch c.Args().First() {
				case "bash":
					_, err := fmt.Fprint(e.io.out, bashCompletion(tree))
					return err
				case "zsh":
					_, err := fmt.Fprint(e.io.out, zshCompletion(tree))
					return err
				}
				return &exitError{code: ExitUsage, msg: fmt.Sprintf("%s: completion: name the shell: bash or zsh", e.prog)}
			},
		},
	}
}

// manPage renders the app's help as a man page in section 8 (a command
// for the administrator), under the name quiesce, with the version in its
// title line and the exit codes, files and guides after the commands.
func manPage(app *cli.App) (string, error) {
	doc := *app
	doc.Name = docsName
	page, err := doc.ToManWithSection(8)
	if err != nil {
		return "", err
	}
	title := fmt.Sprintf(".TH QUIESCE 8 \"\" \"quiesce %s\" \"System Administration\"", version)
	page = strings.Replace(page, ".TH "+docsName+" 8", title, 1)
	return page + manTail, nil
}

// manTail is what the command tree does not say: the exit codes (the
// table in exitcodes.go), the files, the guides.
var manTail = fmt.Sprintf(`
.SH EXIT STATUS
.TP
%d
success (status: running)
.TP
%d
failure (status: dead, processes left without the server)
.TP
%d
invalid or excess arguments
.TP
%d
not implemented (status: stopped)
.TP
%d
insufficient privilege (status: unknown)
.TP
%d
LOTUS does not hold Domino
.TP
%d
configuration missing or wrong
.TP
%d
the server is not running (start: it exited during start-up)
.TP
%d
stopped, but only by killing it (nsd -kill or signals)
.PP
A caller's hook (vmware, veeam, arcserve, qemu) exits as that caller expects: see its guide.
.SH FILES
.TP
/etc/quiesce/quiesce.conf
configuration; while it holds nothing but comments, /etc/sysconfig/rc_domino_config is read instead
.TP
/etc/sysconfig/rc_domino_config
the Domino start script's configuration, read as data
.TP
/var/lib/quiesce
freeze state and lock
.TP
/var/log/quiesce/quiesce.log
JSON log of every run
.TP
domino.service, quiesce-recover.service
systemd units, installed but not enabled
.SH SEE ALSO
/usr/share/doc/quiesce/: configuration.md and one guide per backup product
(vmware.md, veeam.md, arcserve.md, qemu.md, online.md, rc_domino.md, windows.md).
`, ExitOK, ExitFailure, ExitUsage, ExitUnimplemented, ExitPrivilege, ExitNotInstalled, ExitNotConfigured, ExitNotRunning, ExitForcedStop)

// completionNode is one level of the command line: the words that may
// follow it (visible subcommands and flags).
type completionNode struct {
	path     string // the command words from the program on, "" at the top
	commands []completionWord
	flags    []completionWord
}

type completionWord struct{ name, usage string }

// completionTree is every command path of the CLI, and the flags that take
// a value (after which a file name is completed).
type completionTree struct {
	nodes      []completionNode
	valueFlags []string
}

// commandTree walks the app's visible commands and flags.
func commandTree(app *cli.App) completionTree {
	var t completionTree
	valueFlags := map[string]bool{}
	var walk func(path string, cmds []*cli.Command, flags []cli.Flag)
	walk = func(path string, cmds []*cli.Command, flags []cli.Flag) {
		n := completionNode{path: path}
		for _, c := range cmds {
			if c.Hidden {
				continue
			}
			for _, name := range c.Names() {
				n.commands = append(n.commands, completionWord{name, c.Usage})
			}
		}
		for _, f := range flags {
			if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
				continue
			}
			usage := ""
			if d, ok := f.(cli.DocGenerationFlag); ok {
				usage = d.GetUsage()
			}
			takesValue := false
			if d, ok := f.(cli.DocGenerationFlag); ok {
				takesValue = d.TakesValue()
			}
			for _, name := range f.Names() {
				w := "--" + name
				if len(name) == 1 {
					w = "-" + name
				}
				n.flags = append(n.flags, completionWord{w, usage})
				if takesValue {
					valueFlags[w] = true
				}
			}
		}
		t.nodes = append(t.nodes, n)
		for _, c := range cmds {
			if c.Hidden {
				continue
			}
			for _, name := range c.Names() {
				walk(strings.TrimSpace(path+" "+name), c.Subcommands, c.Flags)
			}
		}
	}
	walk("", app.Commands, app.Flags)
	for f := range valueFlags {
		t.valueFlags = append(t.valueFlags, f)
	}
	sort.Strings(t.valueFlags)
	return t
}

func (n completionNode) words() string {
	var w []string
	for _, c := range n.commands {
		w = append(w, c.name)
	}
	for _, f := range n.flags {
		w = append(w, f.name)
	}
	return strings.Join(w, " ")
}

// bashCompletion is a bash completion script: the command path typed so
// far selects the words offered; after a flag that takes a value, files.
func bashCompletion(t completionTree) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# bash completion for %[1]s: generated by \"%[1]s completion bash\" from the CLI. Do not edit.\n", docsName)
	fmt.Fprintf(&b, "_%s() {\n", docsName)
	b.WriteString("  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\" path=\"\" w i skip=\n")
	fmt.Fprintf(&b, "  case \"$prev\" in %s) COMPREPLY=($(compgen -f -- \"$cur\")); return;; esac\n", t.valuePattern())
	b.WriteString("  for ((i = 1; i < COMP_CWORD; i++)); do\n")
	b.WriteString("    w=\"${COMP_WORDS[i]}\"\n")
	b.WriteString("    if [ -n \"$skip\" ]; then skip=; continue; fi\n")
	fmt.Fprintf(&b, "    case \"$w\" in %s) skip=1; continue;; -*) continue;; esac\n", t.valuePattern())
	b.WriteString("    case \"${path:+$path }$w\" in\n")
	for _, n := range t.nodes {
		if n.path != "" {
			fmt.Fprintf(&b, "      %s) path=\"${path:+$path }$w\";;\n", shQuote(n.path))
		}
	}
	b.WriteString("      *) break;;\n    esac\n  done\n")
	b.WriteString("  local words=\n  case \"$path\" in\n")
	for _, n := range t.nodes {
		fmt.Fprintf(&b, "    %s) words=%s;;\n", shQuote(n.path), shQuote(n.words()))
	}
	b.WriteString("  esac\n")
	b.WriteString("  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n}\n")
	fmt.Fprintf(&b, "complete -F _%[1]s %[1]s\n", docsName)
	return b.String()
}

// zshCompletion is a zsh completion function (_quiesce on $fpath) with the
// same logic as the bash script, and each word's usage as its description.
func zshCompletion(t completionTree) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#compdef %s\n", docsName)
	fmt.Fprintf(&b, "# zsh completion for %[1]s: generated by \"%[1]s completion zsh\" from the CLI. Do not edit.\n", docsName)
	fmt.Fprintf(&b, "_%s() {\n", docsName)
	b.WriteString("  local cmdpath=\"\" w i skip=\n  local -a items\n")
	fmt.Fprintf(&b, "  case \"${words[CURRENT-1]}\" in %s) _files; return;; esac\n", t.valuePattern())
	b.WriteString("  for ((i = 2; i < CURRENT; i++)); do\n")
	b.WriteString("    w=\"${words[i]}\"\n")
	b.WriteString("    if [[ -n $skip ]]; then skip=; continue; fi\n")
	fmt.Fprintf(&b, "    case \"$w\" in %s) skip=1; continue;; -*) continue;; esac\n", t.valuePattern())
	b.WriteString("    case \"${cmdpath:+$cmdpath }$w\" in\n")
	for _, n := range t.nodes {
		if n.path != "" {
			fmt.Fprintf(&b, "      %s) cmdpath=\"${cmdpath:+$cmdpath }$w\";;\n", shQuote(n.path))
		}
	}
	b.WriteString("      *) break;;\n    esac\n  done\n")
	b.WriteString("  case \"$cmdpath\" in\n")
	for _, n := range t.nodes {
		var items []string
		for _, w := range append(append([]completionWord{}, n.commands...), n.flags...) {
			items = append(items, shQuote(strings.ReplaceAll(w.name, ":", `\:`)+":"+strings.ReplaceAll(w.usage, ":", `\:`)))
		}
		fmt.Fprintf(&b, "    %s) items=(%s);;\n", shQuote(n.path), strings.Join(items, " "))
	}
	b.WriteString("  esac\n  _describe -t words 'quiesce' items\n}\n")
	fmt.Fprintf(&b, "_%s \"$@\"\n", docsName)
	return b.String()
}

// shQuote quotes s in single quotes for bash and zsh.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// valuePattern is the case pattern of the flags that take a value.
func (t completionTree) valuePattern() string {
	if len(t.valueFlags) == 0 {
		return "--" // matches no word a flag needs a value after
	}
	return strings.Join(t.valueFlags, "|")
}
