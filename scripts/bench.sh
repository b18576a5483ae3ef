#!/usr/bin/env bash
# The benchmark of issue 6: `make bench` (which builds bin/importer and
# bin/p100-sandbox first) runs it with the issue's defaults. Arguments go to
# cmd/p100-bench, e.g. a quick run:
#
#   ./scripts/bench.sh --rows 5000 --mem-rows 20000,100000 --repeat 1 --throughput-repeat 1
#
# It installs vegeta into .tools/bin (a tool binary, not a module
# dependency: go.mod is untouched), builds bin/p100-bench, prints the table
# and writes docs/benchmarks.md. Takes several minutes with the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
vegeta=.tools/bin/vegeta
if [ ! -x "$vegeta" ]; then
  echo "bench: installing vegeta v12.13.0 into .tools/bin"
  GOBIN="$PWD/.tools/bin" "$GO" install github.com/tsenart/vegeta/v12@v12.13.0
fi
for b in bin/importer bin/p100-sandbox; do
  [ -x "$b" ] || { echo "bench: $b is missing: run make build (or make bench)"; exit 1; }
done
CGO_ENABLED=0 "$GO" build -trimpath -o bin/p100-bench ./cmd/p100-bench

if [ -n "${MAKELEVEL:-}" ] && [ $# -eq 0 ]; then
  command="make bench"
else
  command="./scripts/bench.sh${*:+ $*}"
fi
exec ./bin/p100-bench --vegeta "$vegeta" --command "$command" "$@"
