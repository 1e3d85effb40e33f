package nutanix

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/quiesce/quiesce/scripts"
	"github.com/quiesce/quiesce/vendors/hook"
)

// Where NGT looks for the scripts. The Windows folder is UNVERIFIED
// (docs/nutanix.md): --dir sets another.
const (
	LinuxDir   = "/usr/local/sbin"
	WindowsDir = `C:\Program Files\Nutanix\scripts`
)

// Mode NGT demands of the scripts on Linux: owned by root, 0700.
const Mode os.FileMode = 0o700

// DefaultDir is NGT's script folder on this platform.
func DefaultDir() string {
	if runtime.GOOS == "windows" {
		return WindowsDir
	}
	return LinuxDir
}

// Adapter is Nutanix Guest Tools as the command line offers it.
func Adapter() hook.Adapter {
	dir := hook.Flag{Name: "dir", Default: DefaultDir(), Locates: true, Usage: "the folder NGT runs pre_freeze and post_thaw from"}
	return hook.Adapter{
		Name:  Name,
		Usage: "Nutanix Guest Tools pre_freeze/post_thaw script: freeze|thaw",
		Help: hook.Help{
			Args: "freeze|thaw",
			Words: []hook.Word{
				{Name: "freeze", What: "pre_freeze: stop the applications (or put Domino in backup mode) before the snapshot; non-zero fails the application-consistent snapshot"},
				{Name: "thaw", What: "post_thaw: start the applications and prove they serve; idempotent"},
			},
			Exits: "0 success, 1 failure (also: the limit cannot hold a stop; nothing was touched), 2 wrong arguments",
		},
		Defaults: Defaults,
		Hints:    hook.Hints{Budget: "[budgets] nutanix (NGT documents no limit: 60s assumed)", Thaw: "[budgets] nutanix_thaw"},
		Run:      Run,
		Invoked:  Invocation,
		Install: &hook.Installer{
			Usage:          "install pre_freeze and post_thaw where Nutanix Guest Tools runs them (root, 0700)",
			Flags:          []hook.Flag{dir},
			Install:        install,
			UninstallUsage: "remove the pre_freeze and post_thaw install nutanix wrote",
			UninstallFlags: []hook.Flag{dir},
			Uninstall:      uninstall,
			Hooks:          hooks,
			Check:          check,
		},
	}
}

// Files are the two scripts for this platform: path in dir, template.
func Files(dir string) map[string][]byte {
	out := map[string][]byte{}
	for _, n := range []string{PreFreeze, PostThaw} {
		name := n
		if runtime.GOOS == "windows" {
			name += ".bat"
		}
		out[filepath.Join(dir, name)] = scripts.Read("nutanix/" + name)
	}
	return out
}

func ordered(dir string) []string {
	ext := ""
	if runtime.GOOS == "windows" {
		ext = ".bat"
	}
	return []string{filepath.Join(dir, PreFreeze+ext), filepath.Join(dir, PostThaw+ext)}
}

func install(s hook.Site) error {
	bin, opts, err := s.Command()
	if err != nil {
		return err
	}
	dir := s.String("dir")
	files := Files(dir)
	for i, path := range ordered(dir) {
		op := []string{"freeze", "thaw"}[i]
		tmpl := files[path]
		if err := s.Write(path, func() (string, error) { return hook.InstallFileMode(path, hook.Render(tmpl, bin, opts), Mode) },
			opts.CommandLine(bin, s.Windows())+" nutanix "+op); err != nil {
			return err
		}
	}
	s.Say("Nutanix Guest Tools runs them for an application-consistent snapshot: in Prism, enable NGT with")
	s.Say("\"Volume Snapshot Service\" (VSS) for this VM and take application-consistent snapshots (protection domain or policy).")
	return nil
}

func uninstall(s hook.Site) error {
	for _, path := range ordered(s.String("dir")) {
		msg, err := hook.RemoveFile(path)
		if err != nil {
			return err
		}
		s.Say("%s", msg)
	}
	return nil
}

func hooks(s hook.Site) []string { return ordered(s.String("dir")) }

// check says whether the scripts are in place with the owner and mode NGT
// demands; false when quiesce's are there but NGT would refuse them.
func check(s hook.Site) bool {
	ok := true
	for _, path := range ordered(s.String("dir")) {
		_, serr := os.Stat(path)
		switch why := unfit(path); {
		case serr != nil:
			s.Say("          hook      %s: not installed ('quiesce install nutanix' puts it there)", path)
		case !hook.Ours(path):
			s.Say("          hook      %s: another script, not quiesce's", path)
		case why != "":
			s.Say("          hook      %s: quiesce's, but %s", path, why)
			ok = false
		default:
			s.Say("          hook      %s: quiesce's, as NGT demands it", path)
		}
	}
	return ok
}

// unfit says why NGT would not run path ("" when it would): on Linux it
// must be owned by root with mode 0700.
func unfit(path string) string {
	if runtime.GOOS == "windows" {
		return ""
	}
	st, err := os.Stat(path)
	if err != nil {
		return err.Error()
	}
	if st.Mode().Perm() != Mode {
		return fmt.Sprintf("mode %04o, NGT demands 0700", st.Mode().Perm())
	}
	if uid, ok := owner(st); ok && uid != 0 && os.Geteuid() == 0 {
		return fmt.Sprintf("owned by uid %d, NGT demands root", uid)
	}
	return ""
}
