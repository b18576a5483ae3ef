#!/usr/bin/env bash
# Runs the importer on samples/users.csv against the local sandbox API, then
# runs it again to show that nothing is sent twice. Exits 0 when the demo
# behaved as expected.
set -euo pipefail
cd "$(dirname "$0")/.."

workdir=demo
rm -rf "$workdir"
mkdir -p "$workdir"

./bin/p100-sandbox --addr 127.0.0.1:0 --latency 20ms >"$workdir/sandbox.out" 2>"$workdir/sandbox.log" &
sandbox=$!
trap 'kill $sandbox 2>/dev/null || true; wait $sandbox 2>/dev/null || true' EXIT

url=""
for _ in $(seq 1 50); do
  url=$(sed -n 's/^p100-sandbox listening on //p' "$workdir/sandbox.out")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "demo: the sandbox did not start:"; cat "$workdir/sandbox.log"; exit 1; }

export P100_API_KEY=sandbox-key   # the sandbox's key; a real key comes from your environment
run() {
  ./bin/importer run --input samples/users.csv --checkpoint "$workdir/p100-import.db" \
    --base-url "$url" --rate 20 --workers 4 --progress log \
    --report "$workdir/failures.csv" --summary "$workdir/summary.json"
}

echo "== first run: $url"
set +e; run; code=$?; set -e
echo
if [ "$code" -ne 1 ]; then
  echo "demo: expected exit code 1 (the sample has 5 invalid rows on purpose), got $code"; exit 1
fi
echo "Exit code 1 is expected: samples/users.csv holds 5 invalid rows on purpose."
echo "Failure report ($workdir/failures.csv), fixable and re-feedable as --input:"
cut -d, -f1,13- "$workdir/failures.csv" | sed 's/^/  /'
echo
echo "== second run, same checkpoint: nothing is sent again"
set +e; run 2>&1 | grep -E '^[^ ]+ (rows|requests|exit code)'; set -e
echo
echo "sandbox stats: $(curl -s "$url/_sandbox/stats" 2>/dev/null || echo unavailable)"
echo "ledger:"
./bin/importer status --checkpoint "$workdir/p100-import.db" --runs 0 | sed 's/^/  /'
echo
echo "mapping externalUserId -> P100 userId (first 3 of $workdir/mapping.csv):"
./bin/importer export --checkpoint "$workdir/p100-import.db" --output "$workdir/mapping.csv"
head -4 "$workdir/mapping.csv" | cut -d, -f1-3 | sed 's/^/  /'
echo
echo "demo: OK"
