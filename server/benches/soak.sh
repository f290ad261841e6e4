#!/usr/bin/env bash
# Soak: a mixed load (search, streaming search, analysis, ingest) against the release server
# on the seeds plus BBC for DURATION seconds (default 600), with `dossier bench`. Reports the
# calls per second and errors of each RPC (from the server's own /metrics, before and after),
# the bench's totals, and the server's resident memory and document count every 30 s, so
# growth of the corpus (ingest adds documents until the bench's ids repeat) can be told from
# a leak (memory growing while the document count stands still). Fails if any call fails.
#
#   server/benches/soak.sh
#
# Environment: DURATION (600 s), WARMUP (5 s), CONCURRENCY (8), MIX
# ("search:8,stream-search:1,analyze:1,ingest:1"), PORT (50393), METRICS_PORT (50394),
# CORPUS (space-separated --corpus paths), DATA_DIR (optional --data-dir), BUILD (1; 0 runs
# the binaries already in target/release).
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-600}
WARMUP=${WARMUP:-5}
CONCURRENCY=${CONCURRENCY:-8}
MIX=${MIX:-"search:8,stream-search:1,analyze:1,ingest:1"}
PORT=${PORT:-50393}
METRICS_PORT=${METRICS_PORT:-50394}
CORPUS=${CORPUS:-"seeds ../shared/data/news/bbc"}
if [[ ${BUILD:-1} == 1 ]]; then
  cargo build -q --release -p dossier-server --bin dossier-server -p dossier-client --bin dossier
fi

ARGS=()
for c in $CORPUS; do ARGS+=(--corpus "$c"); done
if [[ -n ${DATA_DIR:-} ]]; then ARGS+=(--data-dir "$DATA_DIR"); fi
WORK=$(mktemp -d)
target/release/dossier-server --addr "127.0.0.1:$PORT" --metrics-addr "127.0.0.1:$METRICS_PORT" \
  "${ARGS[@]}" 2>"$WORK/server.log" &
SERVER_PID=$!
SAMPLER_PID=
cleanup() {
  [[ -n $SAMPLER_PID ]] && kill "$SAMPLER_PID" 2>/dev/null || true
  kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
CLIENT=(target/release/dossier --addr "http://127.0.0.1:$PORT")
"${CLIENT[@]}" health --wait 600 >/dev/null
rss() { awk '/^VmRSS:/ {printf "%.1f MiB", $2 / 1024}' "/proc/$SERVER_PID/status"; }
docs() { "${CLIENT[@]}" --json stats | python3 -c 'import json,sys; print(json.load(sys.stdin).get("documents", 0))'; }
metrics() { curl -sf "http://127.0.0.1:$METRICS_PORT/metrics"; }

echo "machine: $(nproc --all) cores; $(uptime | sed 's/.*load/load/')"
echo "mix: $MIX; concurrency $CONCURRENCY; ${DURATION} s after ${WARMUP} s of warm-up"
echo "start: RSS $(rss), documents $(docs)"
metrics >"$WORK/before.prom"
(
  t=0
  while sleep 30; do
    t=$((t + 30))
    echo "t=${t}s: RSS $(rss), documents $(docs)"
  done
) &
SAMPLER_PID=$!

status=0
target/release/dossier --addr "http://127.0.0.1:$PORT" bench --rpc "$MIX" \
  --concurrency "$CONCURRENCY" --warmup "$WARMUP" --duration "$DURATION" \
  --server-pid "$SERVER_PID" || status=$?
kill "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=
metrics >"$WORK/after.prom"
echo "end: RSS $(rss), documents $(docs)"

# Per RPC, from the server's counters (warm-up included, so over warm-up + duration).
python3 - "$WORK/before.prom" "$WORK/after.prom" $((WARMUP + DURATION)) <<'EOF'
import re, sys
def read(path):
    out = {}
    for line in open(path):
        m = re.match(r'dossier_grpc_server_handled_total\{grpc_service="([^"]*)",grpc_method="([^"]*)",grpc_code="([^"]*)"\} (\S+)', line)
        if m:
            out[m.groups()[:3]] = float(m.group(4))
    return out
before, after, seconds = read(sys.argv[1]), read(sys.argv[2]), float(sys.argv[3])
by_method = {}
for key, value in after.items():
    n = value - before.get(key, 0)
    if n <= 0 or key[0].startswith("grpc."):
        continue
    ok, errors = by_method.get(key[1], (0, {}))
    if key[2] == "OK":
        ok += n
    else:
        errors[key[2]] = errors.get(key[2], 0) + n
    by_method[key[1]] = (ok, errors)
print(f"per RPC over {seconds:.0f} s (server counters):")
for method, (ok, errors) in sorted(by_method.items()):
    total = ok + sum(errors.values())
    print(f"  {method:<20} {total / seconds:9.1f} calls/s  {int(total):>9} calls  errors {int(sum(errors.values()))} {errors or ''}")
EOF
grep -c '"level":"ERROR"\|ERROR' "$WORK/server.log" | sed 's/^/server log ERROR lines: /' || true
exit "$status"
