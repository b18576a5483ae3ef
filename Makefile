# p100-importer. `make demo` and `make test` do all the set-up on a fresh
# machine with Go installed.

GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
BIN     := bin

.PHONY: all build test demo bench lint clean

all: build

## build: the importer and the sandbox into bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/importer ./cmd/p100-sandbox

## test: every test, with the race detector (end-to-end tests included)
test:
	$(GO) test -race -count=1 -parallel 8 ./...

## demo: start the local sandbox, import samples/users.csv, print the outcome
demo: build
	./scripts/demo.sh

## bench: the benchmark against vegeta; writes docs/benchmarks.md
bench: build
	./scripts/bench.sh

## lint: formatting, vet, tidy go.mod
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) mod tidy -diff

clean:
	rm -rf $(BIN) demo
