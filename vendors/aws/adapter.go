package aws

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/quiesce/quiesce/core/config"
	"github.com/quiesce/quiesce/vendors/hook"
)

// DefaultDocument is where install aws keeps the document it printed
// (the file to register, and what check reads the limit from).
const DefaultDocument = "/usr/local/share/quiesce/aws/quiesce-dlm.json"

// DocumentName is the name the instructions register the document under.
const DocumentName = "quiesce-dlm"

// Adapter is Amazon Data Lifecycle Manager as the command line offers it.
// Its limits are the ExecutionTimeout of the document install aws wrote.
func Adapter() hook.Adapter {
	doc := hook.Flag{Name: "document", Default: DefaultDocument, Locates: true, Usage: "where install aws writes the SSM document it prints"}
	return hook.Adapter{
		Name:      Name,
		LinuxOnly: true, // its Windows agent quiesces through VSS and runs no hook
		Usage:     "Amazon Data Lifecycle Manager SSM document: pre-script|post-script|dry-run",
		Help: hook.Help{
			Args: "[--execution-timeout SECONDS] [--execution-id ID] pre-script|post-script|dry-run",
			Words: []hook.Word{
				{Name: "pre-script", What: "before DLM initiates the snapshots: stop the applications, or put them in online backup mode"},
				{Name: "post-script", What: "after DLM initiated the snapshots: start the applications and prove they serve"},
				{Name: "dry-run", What: "DLM's document check: does nothing (the document runs 'pre-script --dry-run' instead, which checks quiesce)"},
			},
			Flags: []hook.Flag{
				{Name: "execution-timeout", Default: strconv.Itoa(int(DefaultTimeout / time.Second)), Usage: "the policy's script timeout (ExecutionTimeout), 10-120 s: the limit of each script"},
				{Name: executionIDFlag, Default: noExecutionID, Usage: "DLM's executionId: logged as the job"},
			},
			Exits: "0 success, 1 wrong arguments, 201 pre-script failed (the applications were restored first), 202 post-script failed",
		},
		Defaults: LimitsFrom(DefaultDocument),
		Hints: hook.Hints{
			Budget: "the policy's script timeout (ExecutionTimeout, 10-120 s; 'quiesce install aws --execution-timeout N' writes it into the document)",
			Thaw:   "the policy's script timeout (ExecutionTimeout, the same for the post script)",
		},
		Run: Run,
		Install: &hook.Installer{
			Usage: "print the SSM command document for Amazon Data Lifecycle Manager (and write it to --document), after a dry run of its command",
			Flags: []hook.Flag{doc,
				{Name: "execution-timeout", Default: strconv.Itoa(int(DefaultTimeout / time.Second)), Usage: "the script timeout you set in the policy (10-120 s)"}},
			Install:        install,
			UninstallUsage: "remove the SSM document install aws wrote (deregister it in AWS yourself)",
			UninstallFlags: []hook.Flag{doc},
			Uninstall:      uninstall,
			Hooks:          func(s hook.Site) []string { return []string{s.String("document")} },
			Check:          check,
		},
	}
}

// install checks the exact command the document runs with a dry run,
// writes the document and prints it with what to do in AWS.
func install(s hook.Site) error {
	if s.Windows() {
		return s.Fail("quiesce's SSM document is for Linux instances; on Windows use DLM's VSS backups (AWS_VSS_BACKUP): Domino 12.0.2 and later has a VSS writer")
	}
	bin, opts, err := s.Command()
	if err != nil {
		return err
	}
	v := s.String("execution-timeout")
	n, err := strconv.Atoi(v)
	timeout := time.Duration(n) * time.Second
	if err != nil || timeout < MinTimeout || timeout > MaxTimeout {
		return s.Fail("--execution-timeout %q: give the policy's script timeout in seconds, 10 to 120", v)
	}
	argv := append(append([]string{bin}, opts.Args()...), Name, "--execution-timeout="+strconv.Itoa(n), "pre-script")
	checked, err := s.DryRun(argv...)
	if err != nil {
		return s.Fail("%s fails its check, so every snapshot would fall back to crash-consistent:\n  %s", strings.Join(argv, " "), err)
	}
	d := NewDocument(bin, opts, timeout)
	path := s.String("document")
	if err := writeDocument(path, d.Marshal()); err != nil {
		return s.Fail("%v", err)
	}
	Instructions(s.Out(), path, timeout)
	s.Say("checked: %s", checked)
	s.Say("\n%s", d.Marshal())
	return nil
}

// writeDocument writes the document (0644), refusing a file quiesce did
// not write.
func writeDocument(path string, b []byte) error {
	if err := config.CheckDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("not writing into %s: %w", filepath.Dir(path), err)
	}
	old, err := hook.ReadHook(path)
	switch {
	case err == nil && !bytes.Contains(old, []byte(hook.Marker)):
		return fmt.Errorf("%s exists and was %w; move it away or give --document", path, hook.ErrNotOurs)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	}
	return hook.WriteAtomic(path, b, 0o644)
}

func uninstall(s hook.Site) error {
	msg, err := hook.RemoveFile(s.String("document"))
	if err != nil {
		return s.Fail("%v", err)
	}
	s.Say("%s", msg)
	s.Say("deregister it in AWS too: take it out of the lifecycle policy, then 'aws ssm delete-document --name %s'", DocumentName)
	return nil
}

// check says which limit the document install aws wrote has.
func check(s hook.Site) bool {
	path := s.String("document")
	if !hook.Ours(path) {
		s.Say("          hook      no SSM document from 'quiesce install aws' at %s", path)
		return true
	}
	t := LimitsFrom(path).Budget
	s.Say("          hook      SSM document %s, for a policy script timeout (ExecutionTimeout) of %s", path, t)
	s.Say("                    a failed pre-script: DLM takes a crash-consistent snapshot (ExecuteOperationOnScriptFailure true, the default) or skips the instance (false)")
	if path != DefaultDocument && t != LimitsFrom(DefaultDocument).Budget {
		s.Say("                    note: the limits above are those of %s", DefaultDocument)
	}
	return true
}

// Instructions print what to do in AWS with the document at path.
func Instructions(w io.Writer, path string, timeout time.Duration) {
	fmt.Fprintf(w, `Amazon Data Lifecycle Manager: application-consistent EBS snapshots of this instance with quiesce

1. Register the SSM command document (written to %[1]s, printed below):
     aws ssm create-document --name %[2]s --document-type Command --document-format JSON \
       --content file://%[1]s --tags Key=DLMScriptsAccess,Value=true
   (DLM's managed policy AWSDataLifecycleManagerSSMFullAccess only runs documents tagged
   DLMScriptsAccess=true.) SSM Agent must run on this instance and the instance be managed
   by Systems Manager.
2. In the EBS snapshot policy (target resource type: Instance), Pre and post scripts:
     Custom SSM document: %[2]s, automate option: pre and post scripts
     Script timeout: %[3]d seconds (the document's step timeout is the same: SSM Agent kills
       the script then, and quiesce plans every freeze and thaw to end before it)
     Retry failed scripts: as you like (a retried pre-script repeats the whole snapshot)
     Default to crash-consistent snapshots: on (ExecuteOperationOnScriptFailure true), a
       failed pre-script still gets a snapshot, crash-consistent; off (false), DLM skips
       this instance for that run. Either way quiesce has restored the applications
       before it exits 201.
3. 'dry-run' (DLM's document check) runs 'quiesce aws pre-script --dry-run': it checks
   the configuration, state and applications here and changes nothing.

With a script timeout of %[3]d s a clean stop of Domino rarely fits: set up Domino
Backup for online mode (docs/online.md); 'quiesce check' says whether stop or online fits.
Exit codes: 0 success; 201 pre-script failed; 202 post-script failed; 1 wrong command.
DLM shows the code in its EventBridge events; quiesce's log on this instance has the details.
`, path, DocumentName, int(timeout/time.Second))
}
