# p100-importer. `make demo` and `make test` do all the set-up on a fresh
# machine with Go installed.

GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
BIN     := bin

.PHONY: all build test demo bench lint clean install uninstall install-systemd dist

# Where `make install` puts the importer: $(DESTDIR)$(PREFIX)/bin. The systemd unit in
# deploy/ runs /usr/local/bin/importer: change its ExecStart with another PREFIX.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
SYSTEMDDIR ?= $(SYSCONFDIR)/systemd/system
DIST       ?= dist
PLATFORMS  ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64

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

## install: bin/importer into $(DESTDIR)$(BINDIR) (the sandbox is a test tool: not installed)
install: build
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(BIN)/importer $(DESTDIR)$(BINDIR)/importer

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/importer

## install-systemd: the service and timer of deploy/systemd, and the job file if none is there
install-systemd:
	install -d $(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(SYSCONFDIR)/p100-importer
	install -m 0644 deploy/systemd/p100-importer.service deploy/systemd/p100-importer.timer $(DESTDIR)$(SYSTEMDDIR)/
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/p100-importer/nightly.toml ]; then \
	  echo "kept $(DESTDIR)$(SYSCONFDIR)/p100-importer/nightly.toml"; \
	else install -m 0644 deploy/nightly.toml $(DESTDIR)$(SYSCONFDIR)/p100-importer/nightly.toml; fi

## dist: static binaries for every platform in PLATFORMS into dist/, and dist/SHA256SUMS
dist:
	rm -rf $(DIST) && mkdir -p $(DIST)
	@set -e; for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
	  out=$(DIST)/importer-$(VERSION)-$$os-$$arch$$ext; echo "dist: $$out"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "$(LDFLAGS) -w" -o $$out ./cmd/importer; \
	done
	cd $(DIST) && sha256sum importer-* > SHA256SUMS
	@echo "dist: $(DIST)/SHA256SUMS (check: cd $(DIST) && sha256sum -c SHA256SUMS)"

clean:
	rm -rf $(BIN) demo $(DIST)
