#!/usr/bin/env bash
# Search latency and throughput against the RPC floor (Health/Check), end to end: starts the
# release server on BBC + Reuters-21578 (~22k articles), waits for SERVING, runs `dossier bench`
# for a few realistic queries (each: Search, then Health, same settings, in one run), stops.
#
#   server/benches/search-load.sh
#
# Environment: CONCURRENCY (16), WARMUP (5 s), DURATION (20 s), PORT (50392), PIN (1 = pin the
# server to core 0 and the load generator to core 1 with taskset; 0 = no pinning; default 1 on
# machines with at least 2 cores), CORPUS (space-separated --corpus paths).
# Targets (DESIGN.md): Search p99 <= 2 ms and Search QPS >= 50% of Health QPS.
set -euo pipefail
cd "$(dirname "$0")/../.."
CONCURRENCY=${CONCURRENCY:-16}
WARMUP=${WARMUP:-5}
DURATION=${DURATION:-20}
PORT=${PORT:-50392}
CORPUS=${CORPUS:-"../shared/data/news/bbc ../shared/data/news/reuters21578/reuters21578_flat.jsonl"}
if [[ -z ${PIN:-} ]]; then PIN=$(($(nproc) >= 2 ? 1 : 0)); fi
cargo build -q --release -p dossier-server --bin dossier-server -p dossier-client --bin dossier

SERVER_PIN=() CLIENT_PIN=()
if [[ $PIN == 1 ]]; then SERVER_PIN=(taskset -c 0) CLIENT_PIN=(taskset -c 1); fi
ARGS=()
for c in $CORPUS; do ARGS+=(--corpus "$c"); done
LOG=$(mktemp)
"${SERVER_PIN[@]}" target/release/dossier-server --addr "127.0.0.1:$PORT" "${ARGS[@]}" 2>"$LOG" &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null || true; rm -f "$LOG"' EXIT
CLIENT=(target/release/dossier --addr "http://127.0.0.1:$PORT")
"${CLIENT[@]}" health --wait 600 >/dev/null
echo "machine: $(nproc) cores; $(uptime | sed 's/.*load/load/'); pinning: ${PIN} (server: ${SERVER_PIN[*]:-any core}, client: ${CLIENT_PIN[*]:-any core})"
grep -o 'corpus loaded; serving.*' "$LOG" | sed 's/\x1b\[[0-9;]*m//g' || true
echo "server RSS after loading: $(awk '/^VmRSS:/ {print $2, $3}' "/proc/$SERVER_PID/status")"

QUERIES=(
    '{"query":"oil prices","page_size":10}'
    '{"query":"interest rates inflation","page_size":10}'
    '{"query":"\"prime minister\" election","page_size":10}'
    '{"query":"Microsoft software","page_size":10,"highlight":{"maxFragments":2}}'
)
for q in "${QUERIES[@]}"; do
    echo "== search $q vs health (concurrency $CONCURRENCY, warm-up $WARMUP s, $DURATION s each)"
    "${CLIENT_PIN[@]}" "${CLIENT[@]}" bench --rpc search --request "$q" --vs health \
        --concurrency "$CONCURRENCY" --warmup "$WARMUP" --duration "$DURATION" --server-pid "$SERVER_PID"
done
