# quiesce — see README.md
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build demo test bench vet windows clean

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

bench:
	$(GO) test -run '^$$' -bench . -benchtime 7x -timeout 20m ./cmd/quiesce/

clean:
	rm -rf bin
