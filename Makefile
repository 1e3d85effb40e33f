# quiesce — see README.md
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build demo test test-windows bench soak clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/quiesce ./cmd/quiesce
	$(GO) build -o bin/simdomino ./cmd/simdomino

demo: build
	./bin/simdomino demo --quiesce ./bin/quiesce

# The whole test suite: vet, the Windows build, and every test.
test:
	gofmt -l . | tee /dev/stderr | (! read -r _)
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	GOOS=windows $(GO) build ./...
	$(GO) test -count=1 ./...
	@if command -v wine >/dev/null; then $(MAKE) --no-print-directory test-windows; \
	elif [ "$$CI" = true ]; then echo "make test: wine is not installed (.ci/run installs it)" >&2; exit 1; \
	else echo "make test: wine not installed: Windows tier not run (see .ci/wine/README.md)"; fi

# The Windows tier: the Windows tests of core/, vendors/ and cmd/ run as
# real Windows binaries under wine 8 (.ci/wine/). Prints ran/passed/skipped;
# with CI=true a skipped test fails it.
test-windows:
	bash .ci/wine/test.sh

bench:
	$(GO) test -run '^$$' -bench . -benchtime 7x -timeout 20m ./cmd/quiesce/

# Chaos soak: 200 randomized freeze/snapshot/thaw cycles with faults (the
# test suite runs 50). QUIESCE_SOAK_SEED=N replays a run.
soak:
	QUIESCE_SOAK_CYCLES=$${QUIESCE_SOAK_CYCLES:-200} $(GO) test -count=1 -v -run '^TestSoak$$' -timeout 60m ./vendors/conformance/ | grep -v '^=== '

clean:
	rm -rf bin
