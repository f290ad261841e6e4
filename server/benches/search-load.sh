#!/usr/bin/env bash
# Search latency and throughput against the RPC floor (Health/Check), end to end: starts the
# release server on BBC + Reuters-21578 (~22k articles), waits for SERVING, runs `dossier bench`
# for a few realistic queries (each: Search, then Health, same settings, in one run), stops.
#
#   server/benches/search-load.sh
#
# Environment: CONCURRENCY (16), WARMUP (5 s), DURATION (20 s), PORT (50392), PIN (1 = pin the
# server to core 0 and the load generator to core 1 with taskset; 0 = no pinning; default 1 on
# machines with at least 2 cores), CORPUS (space-separated --corpus paths), DISTINCT (distinct
# queries generated, 500000), REPEATED (1 = also measure four repeated requests, answered
# from the result cache; 0 = only the distinct queries), SERVER_BIN / CLIENT_BIN (binaries
# to use instead of building target/release/dossier-server and target/release/dossier, e.g.
# to measure an older build).
#
# The distinct-query run comes first and is the one that matters: no query repeats within
# it (`dossier bench` fails the run if the file runs out, rather than send a query twice and
# measure the result cache), and it prints the server's CPU time per Search and per Health.
# Targets (DESIGN.md): Search p99 <= 2 ms and Search QPS >= 50% of Health QPS.
#
# Each line also gives CPU time per call of the server and of the load generator: on a machine
# shared with other work they say what a call costs better than wall-clock QPS does, and when
# the client's CPU per call nears the server's, the client (not the server) sets the pace.
# Pinned, the server has exactly one core and the client another, so the Search/Health ratio
# compares the cost of the two calls on one core; unpinned, the server's search threads may
# also use the client's core, and both runs share the machine with whatever else runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
CONCURRENCY=${CONCURRENCY:-16}
WARMUP=${WARMUP:-5}
DURATION=${DURATION:-20}
PORT=${PORT:-50392}
CORPUS=${CORPUS:-"../shared/data/news/bbc ../shared/data/news/reuters21578/reuters21578_flat.jsonl"}
if [[ -z ${PIN:-} ]]; then PIN=$(($(nproc) >= 2 ? 1 : 0)); fi
DISTINCT=${DISTINCT:-500000}
REPEATED=${REPEATED:-1}
SERVER_BIN=${SERVER_BIN:-target/release/dossier-server}
CLIENT_BIN=${CLIENT_BIN:-target/release/dossier}
if [[ $SERVER_BIN == target/release/dossier-server || $CLIENT_BIN == target/release/dossier ]]; then
    cargo build -q --release -p dossier-server --bin dossier-server -p dossier-client --bin dossier
fi

SERVER_PIN=() CLIENT_PIN=()
if [[ $PIN == 1 ]]; then SERVER_PIN=(taskset -c 0) CLIENT_PIN=(taskset -c 1); fi
ARGS=()
for c in $CORPUS; do ARGS+=(--corpus "$c"); done
LOG=$(mktemp)
"${SERVER_PIN[@]}" "$SERVER_BIN" --addr "127.0.0.1:$PORT" "${ARGS[@]}" 2>"$LOG" &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null || true; rm -f "$LOG" "$LOG.queries"' EXIT
CLIENT=("$CLIENT_BIN" --addr "http://127.0.0.1:$PORT")
"${CLIENT[@]}" health --wait 600 >/dev/null
echo "machine: $(nproc --all) cores; $(uptime | sed 's/.*load/load/'); pinning: ${PIN} (server: ${SERVER_PIN[*]:-any core}, client: ${CLIENT_PIN[*]:-any core})"
grep -o 'corpus loaded; serving.*' "$LOG" | sed 's/\x1b\[[0-9;]*m//g' || true
echo "server RSS after loading: $(awk '/^VmRSS:/ {print $2, $3}' "/proc/$SERVER_PID/status")"

QUERIES=(
    '{"query":"oil prices","page_size":10}'
    '{"query":"interest rates inflation","page_size":10}'
    '{"query":"\"prime minister\" election","page_size":10}'
    '{"query":"Microsoft software","page_size":10,"highlight":{"maxFragments":2}}'
)
# Distinct queries (the server caches requests that repeat, per index generation, so a repeated
# query measures that cache): DISTINCT queries of 2-3 title words from the corpus, sent in order
# by all clients together, each at most once; the report says what share of them the run
# used ("x0.60").
python3 - "$LOG.queries" "$DISTINCT" $CORPUS <<'EOF2'
import json, os, random, re, sys
out, count, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
titles = []
for p in paths:
    if os.path.isdir(p):
        for root, _, files in os.walk(p):
            for f in sorted(files):
                if f.endswith(".txt") and root != p:
                    titles.append(open(os.path.join(root, f), encoding="utf-8", errors="replace").readline())
    else:
        for line in open(p, encoding="utf-8"):
            titles.append(json.loads(line).get("title") or "")
stop = set("the a an of to in on for and or at by with from as is are be its it his her new says said over after up".split())
rng = random.Random(6)
queries = []
seen = set()
while len(queries) < count:
    words = [w for w in re.findall(r"[A-Za-z]{3,}", rng.choice(titles)) if w.lower() not in stop]
    if len(words) >= 2:
        q = " ".join(rng.sample(words, min(len(words), rng.choice([2, 3])))).lower()
        if q not in seen:
            seen.add(q)
            queries.append(q)
with open(out, "w") as f:
    for q in queries:
        f.write(json.dumps({"query": q, "page_size": 10}) + "\n")
EOF2
echo "== search, $DISTINCT distinct title-word queries ($(head -2 "$LOG.queries" | tr '\n' ' ')...) vs health"
"${CLIENT_PIN[@]}" "${CLIENT[@]}" bench --rpc search --requests "$LOG.queries" --vs health \
    --concurrency "$CONCURRENCY" --warmup "$WARMUP" --duration "$DURATION" --server-pid "$SERVER_PID"
if [[ $REPEATED != 1 ]]; then exit 0; fi
for q in "${QUERIES[@]}"; do
    echo "== search $q repeated (answered from the result cache after the second call) vs health (concurrency $CONCURRENCY, warm-up $WARMUP s, $DURATION s each)"
    "${CLIENT_PIN[@]}" "${CLIENT[@]}" bench --rpc search --request "$q" --vs health \
        --concurrency "$CONCURRENCY" --warmup "$WARMUP" --duration "$DURATION" --server-pid "$SERVER_PID"
done
