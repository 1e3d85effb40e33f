//go:build linux

package conformance

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quiesce/quiesce/cmd/simdomino/nrpcwatch"
	"github.com/quiesce/quiesce/cmd/simdomino/simtest"
)

// The cloud callers' own limits, as they ship: Azure Backup 30 s per
// script (Microsoft's sample), AWS DLM 10 s (the policy's default).
var cloudDefaults = []struct {
	name string
	make func(t *testing.T, r *rig) Harness
}{
	{"azure-30s", func(t *testing.T, r *rig) Harness { return newAzure(t, r, 30) }},
	{"aws-10s", func(t *testing.T, r *rig) Harness { return newAWS(t, r, 10) }},
}

// With Domino Backup set up, a freeze fits the clouds' short limits
// online, under each order of Domino's snapshot commands: each script
// answers within its limit, a client is never refused, and the snapshot
// lies inside backup mode and restores with its deltas.
func TestCloudOnlineWithinDefaultLimits(t *testing.T) {
	for i, c := range cloudDefaults {
		for _, order := range simtest.Orders {
			if testing.Short() && i > 0 { // the short tier: one cloud caller
				continue
			}
			t.Run(c.name+"/order-"+order, func(t *testing.T) { cloudOnlineWithin(t, c.make, order) })
		}
	}
}

func cloudOnlineWithin(t *testing.T, newHarness func(t *testing.T, r *rig) Harness, order string) {
	r := newOnlineRig(t, simtest.Options{ShutdownSeconds: 0.2, BackupOrder: order}, "auto")
	h := newHarness(t, r)
	r.startServer(t)
	w := nrpcwatch.Start(r.sim.Port)
	f := h.Freeze(t)
	mustOK(t, f)
	if f.Note != "" || !strings.Contains(f.Stdout, "backup mode") {
		t.Fatalf("freeze: %+v\nlog:\n%s", f, r.log(t))
	}
	snap := r.sim.TakeSnapshot()
	th := h.Thaw(t)
	mustOK(t, th)
	if ok, refused := w.End(); refused > 0 || ok == 0 {
		t.Fatalf("NRPC: %d accepted, %d refused during the cycle", ok, refused)
	}
	m := onlineID.FindStringSubmatch(r.log(t))
	if m == nil {
		t.Fatalf("no online backup in quiesce's log:\n%s", r.log(t))
	}
	if err := r.sim.CheckOnline(snap, m[1]); err != nil {
		t.Fatalf("a snapshot reported OK: %v", err)
	}
}

// A pre-script still stopping the server when the caller's limit comes:
// SSM Agent kills the script's whole process group (DLM's policy timeout
// shorter than the one the document was made for); Azure's extension
// stops waiting and runs the post-script at once, or the VM agent kills
// the script (the plugin host capping the timeout below the plugin's,
// /etc/azure/VMSnapshotPluginHost.conf, which quiesce does not read).
// Either way the server serves again and no freeze is left behind.
func TestCloudHookCutAtTheLimitLeavesNothingDown(t *testing.T) {
	simtest.Slow(t)
	cases := []struct {
		name string
		make func(t *testing.T, r *rig) Harness
	}{
		{"aws-killed", func(t *testing.T, r *rig) Harness {
			h := newAWS(t, r, 120)
			h.timeout = 10 * time.Second // the policy's, shorter than the document's
			return h
		}},
		{"azure-abandoned", func(t *testing.T, r *rig) Harness {
			h := newAzure(t, r, 120)
			h.limit = 10 * time.Second
			return h
		}},
		{"azure-killed", func(t *testing.T, r *rig) Harness {
			h := newAzure(t, r, 120)
			h.limit, h.kill = 10*time.Second, true
			return h
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A clean shutdown of 20 s: longer than the 10 s the caller
			// really gives, within the 60 s quiesce plans for.
			r := newRigWith(t, simtest.Options{ShutdownSeconds: 20, StartSeconds: 0.2}, "fail",
				"shutdown_timeout = 60s\nkill_wait = 2s\nstart_timeout = 20s\n", "")
			h := c.make(t, r)
			r.startServer(t)
			tr := &transcript{}
			began := time.Now()
			f := h.Freeze(t)
			tr.step(f)
			if f.OK {
				t.Fatalf("the freeze was not cut at the limit: %+v", f)
			}
			if took := time.Since(began); took > 15*time.Second {
				t.Fatalf("the caller waited %s, beyond its 10 s", took)
			}
			th := h.Thaw(t) // both callers run the post-script after the snapshot attempt
			// The thaw races the watchdog that finishes the cut freeze's
			// stop (20 s) and starts the server: it may be cut at the limit
			// too, or fail, or find the server started; every one of them
			// is honest as long as an OK means the server serves. The
			// golden keeps the freeze; the thaw's property is checked here.
			waitServing(t, r, 60*time.Second)
			if th.OK && !strings.Contains(th.Stdout, "thaw OK") {
				t.Fatalf("the caller saw the thaw succeed, but quiesce did not say so: %+v", th)
			}
			tr.add("thaw: ended (cut at the limit, failed or started: all honest); the server serves")
			record := r.record(r.stateDir(t))
			simtest.Eventually(t, 30*time.Second, "no freeze record left", func() bool {
				_, err := os.Stat(record)
				return os.IsNotExist(err)
			})
			serving(t, r, tr, true)
			if log := r.log(t); !strings.Contains(log, `"caller":"`+h.Name()+`"`) && !strings.Contains(log, `"holders":["`+h.Name()+`"]`) {
				t.Fatalf("quiesce's log does not name the caller:\n%s", log)
			}
			tr.golden(t, h.Name(), "cut-at-limit-"+strings.TrimPrefix(c.name, h.Name()+"-"))
		})
	}
}

// Without online mode, a clean stop does not fit the clouds' default
// limits: the freeze is refused at once with one line, the server is not
// touched, no freeze is recorded, and the post-script that follows has
// nothing to do.
func TestCloudStopThatCannotFitFailsFast(t *testing.T) {
	for _, c := range cloudDefaults {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, quick, "fail")
			h := c.make(t, r)
			r.startServer(t)
			before := r.sim.Procs()
			tr := &transcript{}
			began := time.Now()
			f := h.Freeze(t)
			took := time.Since(began)
			tr.step(f)
			if f.OK || !strings.Contains(f.Stderr, "kills its hook after") || strings.Count(strings.TrimSpace(f.Stderr), "\n") != 0 {
				t.Fatalf("freeze: %+v", f)
			}
			if took > 5*time.Second { // the harness's own polling included
				t.Fatalf("the refusal took %s", took)
			}
			if after := r.sim.Procs(); !slices.Equal(before, after) {
				t.Fatalf("a refused freeze touched the server: %v -> %v", before, after)
			}
			if _, err := os.Stat(r.record(r.stateDir(t))); !os.IsNotExist(err) {
				t.Fatalf("a refused freeze left a record: %v", err)
			}
			th := h.Thaw(t)
			tr.step(th)
			mustOK(t, th)
			serving(t, r, tr, true)
			t.Logf("refused in %s", took)
			tr.golden(t, h.Name(), "stop-does-not-fit-"+strings.TrimPrefix(c.name, h.Name()+"-"))
		})
	}
}
