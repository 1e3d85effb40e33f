# quiesce — see README.md
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
DIST    ?= dist

BIN     ?= bin
# .exe for GOOS=windows: "GOOS=windows make build" writes bin/quiesce.exe.
EXE     := $(shell $(GO) env GOEXE)

.PHONY: build demo dist dist-linux dist-windows dist-version fmt-check lint test test-short test-packaging test-windows test-oldest-go bench fuzz soak soak-long clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/quiesce$(EXE) ./cmd/quiesce
	$(GO) build -o $(BIN)/simdomino$(EXE) ./cmd/simdomino

demo: build
	$(BIN)/simdomino demo --quiesce $(BIN)/quiesce

# Release packages in $(DIST)/ (.ci/dist.sh):
#   dist-linux    .deb and .rpm (amd64, arm64), built with nfpm (pinned in
#                 .ci/dist.mod): needs nothing but go, git and gzip
#   dist-windows  the Windows zip and MSI: needs zip, wixl and msitools
#   dist          both
dist:
	GO="$(GO)" VERSION="$(VERSION)" DIST="$(DIST)" bash .ci/dist.sh linux windows
dist-linux:
	GO="$(GO)" VERSION="$(VERSION)" DIST="$(DIST)" bash .ci/dist.sh linux
dist-windows:
	GO="$(GO)" VERSION="$(VERSION)" DIST="$(DIST)" bash .ci/dist.sh windows

# The version quiesce prints and the packages' version, for this checkout.
dist-version:
	@VERSION="$(VERSION)" bash .ci/dist.sh --version

# The whole test suite: gofmt, staticcheck, vet, the Windows build, and
# every test.
test: fmt-check lint
	$(GO) vet -tags packaging ./...
	GOOS=windows $(GO) vet ./...
	GOOS=windows $(GO) build ./...
	$(GO) test -count=1 -timeout 25m ./... # the conformance package plays eight callers through every scenario
	$(MAKE) --no-print-directory test-packaging
	@if command -v wine >/dev/null; then $(MAKE) --no-print-directory test-windows; \
	elif [ "$$CI" = true ]; then echo "make test: wine is not installed (.ci/run installs it)" >&2; exit 1; \
	else echo "make test: wine not installed: Windows tier not run (see .ci/wine/README.md)"; fi

# The fast tier, for the edit-test loop: the same packages with -short
# (the soaks, the long waits and the earlier release's build are left
# out); under 90 s on 2 cores.
test-short:
	$(GO) test -count=1 -short -timeout 5m ./...

# The packages, built (make dist) and installed for real (dpkg, wine's
# msiexec): a step of its own, apart from the timing-sensitive tests.
test-packaging:
	$(GO) test -count=1 -tags packaging -timeout 15m ./scripts/packaging/

# The Windows tier: the Windows tests of core/, vendors/ and cmd/ run as
# real Windows binaries under wine 8 (.ci/wine/). Prints ran/passed/skipped;
# with CI=true a skipped test fails it.
test-windows:
	bash .ci/wine/test.sh

# Files gofmt would change, on stdout. (Never "tee /dev/stderr": it reopens
# a log file that stderr points to, truncating what came before.)
fmt-check:
	@unformatted="$$(gofmt -l .)"; if [ -n "$$unformatted" ]; then \
	  echo "gofmt: these files need formatting (run gofmt -w):"; echo "$$unformatted"; exit 1; \
	else echo "gofmt: all files formatted"; fi

# staticcheck, pinned by the tool directive of tools.mod (a modfile of its
# own: the tool directive needs go >= 1.24 and staticcheck itself go >= the
# go line of tools.mod, while go.mod promises 1.22). An older go (Debian 12's
# backports 1.23, the oldest 1.22) runs it through the toolchain of tools.mod's
# go line, which the go command fetches from the Go module proxy by itself
# (GOTOOLCHAIN); a go that is new enough runs it as it is. It loads the
# packages with go.mod, so it checks the code as Go 1.22 builds it.
# The Windows pass runs the Linux binary with GOOS=windows and leaves out
# U1000 (unused): code the Linux tests share but Windows never calls reads
# as unused there.
TOOLS_GO       := go$(shell sed -n 's/^go //p' tools.mod)
LINT_TOOLCHAIN  = $(shell v=$$($(GO) env GOVERSION); \
	if [ "$$(printf '%s\n' $(TOOLS_GO) "$$v" | sort -V | head -n 1)" = $(TOOLS_GO) ]; then echo local; else echo $(TOOLS_GO); fi)
lint:
	@toolchain=$(LINT_TOOLCHAIN); echo "staticcheck: go toolchain $$toolchain (tools.mod wants $(TOOLS_GO) or newer)"; \
	set -x; GOTOOLCHAIN=$$toolchain $(GO) tool -modfile=tools.mod staticcheck -tags packaging ./... && \
	GOTOOLCHAIN=$$toolchain GOOS=windows "$$(GOTOOLCHAIN=$$toolchain $(GO) tool -modfile=tools.mod -n staticcheck)" -tags packaging -checks inherit,-U1000 ./...

# The oldest Go the README promises (go.mod's go line), fetched through the
# Go module proxy: vet and build (Linux and Windows), lint (staticcheck
# through the toolchain of tools.mod, as with Debian 12's Go 1.23), then run
# the demo.
OLDEST_GO := go$(shell sed -n 's/^go //p' go.mod)
test-oldest-go:
	GOTOOLCHAIN=$(OLDEST_GO) $(GO) version
	GOTOOLCHAIN=$(OLDEST_GO) $(GO) vet ./...
	GOTOOLCHAIN=$(OLDEST_GO) GOOS=windows $(GO) build ./...
	GOTOOLCHAIN=$(OLDEST_GO) $(MAKE) --no-print-directory lint
	GOTOOLCHAIN=$(OLDEST_GO) $(GO) run ./cmd/simdomino demo

bench:
	$(GO) test -run '^$$' -bench . -benchtime 7x -timeout 20m ./cmd/quiesce/

# Fuzzing: every Fuzz target (the fuzz_test.go files of core/, vendors/,
# cmd/), one at a time, for FUZZTIME each (.ci/fuzz.sh). Their seeds and
# the corpora in testdata/fuzz/ already run with every go test.
# FUZZPARALLEL sets -parallel, FUZZ=NAME runs only the targets matching
# NAME. A failing input is written to the package's testdata/fuzz/.
FUZZTIME     ?= 5m
FUZZPARALLEL ?= 1
FUZZMINIMIZE ?= 5s
FUZZ         ?= ^Fuzz
fuzz:
	GO="$(GO)" FUZZTIME="$(FUZZTIME)" FUZZPARALLEL="$(FUZZPARALLEL)" FUZZMINIMIZE="$(FUZZMINIMIZE)" FUZZ="$(FUZZ)" bash .ci/fuzz.sh

# Chaos soak: 1,000 randomized freeze/snapshot/thaw cycles with faults (the
# test suite runs 50), and as many against a real MariaDB and PostgreSQL
# (TestSoakDatabases; the suite runs 50 each; QUIESCE_SOAK_DB=mariadb or
# postgresql runs one, QUIESCE_SOAK_DB_CYCLES sets their length alone), and
# two mates of a Domino cluster on a three-node etcd (TestSoakCluster, about
# 5 s a cycle; the suite runs 40; QUIESCE_SOAK_CLUSTER_CYCLES sets its
# length alone).
# QUIESCE_SOAK_SEED=N replays a run (QUIESCE_SOAK_FROM=C from cycle C on),
# QUIESCE_SOAK_CYCLES=N changes the length. The whole
# output goes to $(SOAK_LOG)/soak-SEED.log; the exit code is the test's.
SOAK_CYCLES ?= 1000
SOAK_LOG    ?= $(or $(TMPDIR),/tmp)/quiesce-soak
soak:
	@mkdir -p $(SOAK_LOG)
	@seed=$${QUIESCE_SOAK_SEED:-$$(date +%s%N)}; cycles=$${QUIESCE_SOAK_CYCLES:-$(SOAK_CYCLES)}; out=$(SOAK_LOG)/soak-$$seed.log; \
	echo "soak: $$cycles cycles, seed $$seed, output in $$out"; \
	QUIESCE_SOAK_SEED=$$seed QUIESCE_SOAK_CYCLES=$$cycles \
		$(GO) test -count=1 -v -run '^TestSoak(Online|Databases|Cluster)?$$' -timeout 8h ./vendors/conformance/ >$$out 2>&1; rc=$$?; \
	grep -v '^=== ' $$out; exit $$rc

# Before merging a change to the engine: three 1,000-cycle soaks, the seed
# that once left Domino down and two new ones (about 25 minutes each on an
# idle machine).
SOAK_SEEDS ?= 20261123 $(shell date +%s) $(shell date +%N)
soak-long:
	@for seed in $(SOAK_SEEDS); do QUIESCE_SOAK_SEED=$$seed $(MAKE) --no-print-directory soak || exit 1; done

clean:
	rm -rf $(BIN) $(DIST)
