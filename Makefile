# quiesce — see README.md
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
DIST    ?= dist

.PHONY: build demo dist dist-version fmt-check lint test test-windows test-oldest-go bench fuzz soak soak-long clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/quiesce ./cmd/quiesce
	$(GO) build -o bin/simdomino ./cmd/simdomino

demo: build
	./bin/simdomino demo --quiesce ./bin/quiesce

# Release packages in $(DIST)/: .deb and .rpm (amd64, arm64) built with nfpm
# (pinned in .ci/dist.mod), and the Windows zip (.ci/dist.sh).
dist:
	GO="$(GO)" VERSION="$(VERSION)" DIST="$(DIST)" bash .ci/dist.sh

# The version quiesce prints and the packages' version, for this checkout.
dist-version:
	@VERSION="$(VERSION)" bash .ci/dist.sh --version

# The whole test suite: gofmt, staticcheck, vet, the Windows build, and
# every test.
test: fmt-check lint
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	GOOS=windows $(GO) build ./...
	$(GO) test -count=1 -timeout 25m ./... # the conformance package plays eight callers through every scenario
	@if command -v wine >/dev/null; then $(MAKE) --no-print-directory test-windows; \
	elif [ "$$CI" = true ]; then echo "make test: wine is not installed (.ci/run installs it)" >&2; exit 1; \
	else echo "make test: wine not installed: Windows tier not run (see .ci/wine/README.md)"; fi

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
# own: the tool directive needs go >= 1.24, go.mod promises 1.22). It loads
# the packages with go.mod, so it checks the code as Go 1.22 builds it.
# The Windows pass runs the Linux binary with GOOS=windows and leaves out
# U1000 (unused): code the Linux tests share but Windows never calls reads
# as unused there.
STATICCHECK = $(GO) tool -modfile=tools.mod staticcheck
lint:
	$(STATICCHECK) ./...
	GOOS=windows "$$($(GO) tool -modfile=tools.mod -n staticcheck)" -checks inherit,-U1000 ./...

# The oldest Go the README promises (go.mod's go line), fetched through the
# Go module proxy: vet and build (Linux and Windows), then run the demo.
OLDEST_GO := go$(shell sed -n 's/^go //p' go.mod)
test-oldest-go:
	GOTOOLCHAIN=$(OLDEST_GO) $(GO) version
	GOTOOLCHAIN=$(OLDEST_GO) $(GO) vet ./...
	GOTOOLCHAIN=$(OLDEST_GO) GOOS=windows $(GO) build ./...
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
# test suite runs 50). QUIESCE_SOAK_SEED=N replays a run (QUIESCE_SOAK_FROM=C
# from cycle C on), QUIESCE_SOAK_CYCLES=N changes the length. The whole
# output goes to $(SOAK_LOG)/soak-SEED.log; the exit code is the test's.
SOAK_CYCLES ?= 1000
SOAK_LOG    ?= $(or $(TMPDIR),/tmp)/quiesce-soak
soak:
	@mkdir -p $(SOAK_LOG)
	@seed=$${QUIESCE_SOAK_SEED:-$$(date +%s%N)}; cycles=$${QUIESCE_SOAK_CYCLES:-$(SOAK_CYCLES)}; out=$(SOAK_LOG)/soak-$$seed.log; \
	echo "soak: $$cycles cycles, seed $$seed, output in $$out"; \
	QUIESCE_SOAK_SEED=$$seed QUIESCE_SOAK_CYCLES=$$cycles \
		$(GO) test -count=1 -v -run '^TestSoak(Online)?$$' -timeout 4h ./vendors/conformance/ >$$out 2>&1; rc=$$?; \
	grep -v '^=== ' $$out; exit $$rc

# Before merging a change to the engine: three 1,000-cycle soaks, the seed
# that once left Domino down and two new ones (about 25 minutes each on an
# idle machine).
SOAK_SEEDS ?= 20261123 $(shell date +%s) $(shell date +%N)
soak-long:
	@for seed in $(SOAK_SEEDS); do QUIESCE_SOAK_SEED=$$seed $(MAKE) --no-print-directory soak || exit 1; done

clean:
	rm -rf bin $(DIST)
