package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/quiesce/quiesce/vendors/hook"
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
				_, err := fmt.Fprint(e.io.out, manPage(c.App, e.adapters))
				return err
			},
		},
		{
			Name:      "completion",
			Usage:     "print the shell completion script for bash or zsh",
			ArgsUsage: "bash|zsh",
			Hidden:    true,
			Action: func(c *cli.Context) error {
				tree := commandTree(c.App, e.adapters)
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

// manPage renders the app's commands and flags as a man page in section
// 8 (a command for the administrator), under the name quiesce, with the
// version in its title line; the callers' hooks (their operations, exit
// codes and guides) come from the adapter registry, then the exit codes,
// files and guides.
func manPage(app *cli.App, reg hook.Registry) string {
	var b strings.Builder
	fmt.Fprintf(&b, ".TH QUIESCE 8 \"\" \"quiesce %s\" \"System Administration\"\n", roff(version))
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", docsName, roff(app.Usage))
	b.WriteString(".SH SYNOPSIS\n.B " + docsName + "\n")
	for _, f := range visibleFlags(app.Flags) {
		b.WriteString("[" + manFlagNames(f, "|") + "]\n")
	}
	b.WriteString("\\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGUMENTS\\fR]\n")
	b.WriteString(".SH GLOBAL OPTIONS\n")
	manFlags(&b, app.Flags)
	b.WriteString(".SH COMMANDS\n")
	for _, c := range app.Commands {
		if c.Hidden {
			continue
		}
		fmt.Fprintf(&b, ".SH %s\n", c.Name)
		manCommand(&b, c, reg)
		for _, sub := range c.Subcommands {
			if sub.Hidden {
				continue
			}
			fmt.Fprintf(&b, ".SS %s\n", sub.Name)
			manCommand(&b, sub, reg)
		}
	}
	b.WriteString(manExitStatus(reg))
	b.WriteString(manFiles)
	b.WriteString(manSeeAlso(reg))
	return b.String()
}

// manCommand is one command's entry: what it does, its arguments (a
// caller's operation words), its options and, for a caller, its exit codes.
func manCommand(b *strings.Builder, c *cli.Command, reg hook.Registry) {
	b.WriteString(roff(c.Usage) + "\n")
	a, caller := reg.Find(c.Name)
	caller = caller && c.SkipFlagParsing
	if caller {
		fmt.Fprintf(b, ".PP\n.B %s %s\n%s\n", docsName, c.Name, roff(a.Help.Args))
		for _, w := range a.Help.Words {
			fmt.Fprintf(b, ".TP\n.B %s\n%s\n", roff(w.Name), roff(w.What))
		}
	}
	if len(visibleFlags(c.Flags)) > 0 {
		b.WriteString(".PP\nOptions:\n")
		manFlags(b, c.Flags)
	}
	if caller {
		fmt.Fprintf(b, ".PP\nExit codes: %s.\n", roff(a.Help.Exits))
	}
}

// manFlags lists flags as tagged paragraphs: names and the value they take,
// then what they do and their default as typed.
func manFlags(b *strings.Builder, flags []cli.Flag) {
	for _, f := range visibleFlags(flags) {
		_, usage := flagArg(f)
		if d, ok := f.(cli.DocGenerationFlag); ok && d.TakesValue() {
			if def := d.GetDefaultText(); def != "" {
				usage += " (default: " + strings.Trim(def, `"`) + ")"
			}
		}
		fmt.Fprintf(b, ".TP\n%s\n%s\n", manFlagNames(f, ", "), roff(usage))
	}
}

// visibleFlags leaves out hidden flags and urfave/cli's own --help.
func visibleFlags(flags []cli.Flag) []cli.Flag {
	var out []cli.Flag
	for _, f := range flags {
		if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
			continue
		}
		if f.Names()[0] == "help" {
			continue
		}
		out = append(out, f)
	}
	return out
}

// manFlagNames is a flag's names in bold, joined by sep, and the value it
// takes in italics: \fB--config\fR|\fB-c\fR \fIFILE\fR.
func manFlagNames(f cli.Flag, sep string) string {
	var names []string
	for _, n := range f.Names() {
		dash := "\\-\\-"
		if len(n) == 1 {
			dash = "\\-"
		}
		names = append(names, "\\fB"+dash+strings.ReplaceAll(roff(n), "-", "\\-")+"\\fR")
	}
	out := strings.Join(names, sep)
	if arg, _ := flagArg(f); arg != "" {
		out += " \\fI" + arg + "\\fR"
	}
	return out
}

// flagArg is the placeholder of the value a flag takes ("" for a boolean)
// and its usage: the usage's `WORD` as urfave/cli reads it, else a name
// for the kind of value.
func flagArg(f cli.Flag) (arg, usage string) {
	d, ok := f.(cli.DocGenerationFlag)
	if !ok {
		return "", ""
	}
	usage = d.GetUsage()
	if !d.TakesValue() {
		return "", usage
	}
	if i := strings.Index(usage, "`"); i >= 0 {
		if j := strings.Index(usage[i+1:], "`"); j >= 0 {
			arg = usage[i+1 : i+1+j]
			return arg, usage[:i] + arg + usage[i+2+j:]
		}
	}
	name := f.Names()[0]
	switch {
	case strings.HasSuffix(name, "dir") || name == "root" || name == "data" || name == "copy-to":
		return "DIR", usage
	case strings.HasSuffix(name, "config") || strings.HasSuffix(name, "file") || name == "binary" || name == "hook" || strings.HasSuffix(name, "document"):
		return "FILE", usage
	case strings.HasSuffix(name, "timeout"):
		return "TIME", usage
	}
	if _, isInt := f.(*cli.IntFlag); isInt || name == "keep" {
		return "N", usage
	}
	return "VALUE", usage
}

// roff escapes text for a man page: backslashes, and a line that would
// start with a control character.
func roff(s string) string {
	s = strings.ReplaceAll(s, "\\", "\\e")
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = "\\&" + s
	}
	return s
}

// manExitStatus is the exit codes (the table in exitcodes.go); a caller's
// hook answers with its caller's codes instead, named for each caller.
func manExitStatus(reg hook.Registry) string {
	var b strings.Builder
	b.WriteString(".SH EXIT STATUS\n")
	for _, c := range []struct {
		code int
		what string
	}{
		{ExitOK, "success (status: running)"},
		{ExitFailure, "failure (status: dead, processes left without the server)"},
		{ExitUsage, "invalid or excess arguments"},
		{ExitUnimplemented, "not implemented (status: stopped)"},
		{ExitPrivilege, "insufficient privilege (status: unknown)"},
		{ExitNotInstalled, "LOTUS does not hold Domino"},
		{ExitNotConfigured, "configuration missing or wrong"},
		{ExitNotRunning, "the server is not running (start: it exited during start-up)"},
		{ExitForcedStop, "stopped, but only by killing it (nsd -kill or signals)"},
	} {
		fmt.Fprintf(&b, ".TP\n%d\n%s\n", c.code, c.what)
	}
	fmt.Fprintf(&b, ".PP\nA caller's hook exits as that caller expects (see its guide): %s.\n", strings.Join(callerList(reg, ""), ", "))
	return b.String()
}

// callerList is every caller's name, with suffix (".md": its guide).
func callerList(reg hook.Registry, suffix string) []string {
	var out []string
	for _, a := range reg {
		out = append(out, a.Name+suffix)
	}
	return out
}

// manFiles is where quiesce keeps what it reads and writes on Linux.
const manFiles = `.SH FILES
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
`

// manSeeAlso names the guides: one per caller in the registry, and the
// others.
func manSeeAlso(reg hook.Registry) string {
	return ".SH SEE ALSO\n/usr/share/doc/quiesce/: README.md, configuration.md, callers.md (how each caller runs its hook), " +
		"online.md, cluster.md, rc_domino.md, windows.md, and one guide per backup product: " + strings.Join(callerList(reg, ".md"), ", ") + ".\n"
}

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

// commandTree walks the app's visible commands and flags. A caller
// command's operation words (reg) complete like subcommands: "quiesce
// vmware <TAB>" offers freeze, freezeFail and thaw; its placeholders
// (SCRIPT_ARG, DISKS) are no words to type.
func commandTree(app *cli.App, reg hook.Registry) completionTree {
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
		if a, ok := reg.Find(path); ok && len(cmds) == 0 {
			for _, w := range a.Help.Words {
				if strings.ToUpper(w.Name) != w.Name {
					n.commands = append(n.commands, completionWord{w.Name, w.What})
					// a node of its own: the caller's flags, no more words
					cmds = append(cmds, &cli.Command{Name: w.Name, Flags: flags})
				}
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
