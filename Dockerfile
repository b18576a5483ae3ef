# p100-importer: the static importer binary on a distroless base, run as non-root.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t p100-importer .
#   docker run --rm -e P100_API_KEY -v p100-state:/var/lib/p100-importer p100-importer
#
# The image runs `importer run --config /etc/p100-importer/nightly.toml` (deploy/nightly.toml,
# replace it with -v my.toml:/etc/p100-importer/nightly.toml:ro) and keeps the checkpoint on
# the volume /var/lib/p100-importer. The key comes from the environment (P100_API_KEY) or a
# mounted file (--api-key-file); the image holds none.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The version printed by `importer --version` (the build context has no .git).
ARG VERSION=dev
# Static: pure-Go SQLite (modernc.org/sqlite), no cgo, so no libc is needed at run time.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
        -o /out/importer ./cmd/importer \
    && mkdir -p /out/state

FROM gcr.io/distroless/static-debian12:nonroot
LABEL org.opencontainers.image.title="p100-importer" \
      org.opencontainers.image.description="Migrates a partner's users into the P100 Partner API from CSV files"
COPY --from=build /out/importer /usr/local/bin/importer
COPY deploy/nightly.toml /etc/p100-importer/nightly.toml
# The checkpoint's directory, owned by the image's non-root user (65532, "nonroot"), so a
# fresh named volume mounted there is writable by it.
COPY --from=build --chown=65532:65532 /out/state /var/lib/p100-importer
USER 65532:65532
WORKDIR /var/lib/p100-importer
VOLUME ["/var/lib/p100-importer"]
ENTRYPOINT ["/usr/local/bin/importer"]
CMD ["run", "--config", "/etc/p100-importer/nightly.toml"]
