#!/usr/bin/env bash
# Ingest throughput (issue 17): one IngestDocumentsStream of N BBC articles (`dossier ingest`)
# against loading the same files at start-up, in memory, with --data-dir and (when
# DOSSIER_BENCH_PG is a PostgreSQL URL of an empty database, or PostgreSQL's binaries are
# installed) with --store; then kill -9 of the --data-dir server in the middle of a stream,
# and a count of acknowledged documents against those present after the restart.
#
#   bash server/benches/ingest.sh [BBC_DIR] [N]        # defaults: ../shared/data/news/bbc 2000
#
# Server pinned to core 0, client to core 1 (PIN=0: unpinned). Prints the load average with
# every figure: the machine is shared.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=server/benches/pg-throwaway.sh
. server/benches/pg-throwaway.sh
BBC=${1:-../shared/data/news/bbc}
N=${2:-2000}
bench_setup ingest

# The first N articles, flat, named as the loader names them (folder-stem).
mkdir -p "$WORK/corpus" "$WORK/empty"
find "$BBC" -name '*.txt' | sort | head -n "$N" | while read -r f; do
  ln -s "$(realpath "$f")" "$WORK/corpus/$(basename "$(dirname "$f")")-$(basename "$f")"
done
FILES=("$WORK"/corpus/*.txt)
echo "articles: ${#FILES[@]} from $BBC"

# Starts the server with "$@" on a free port; sets ADDR, SERVER_PID, LOAD_MS (from its log).
start() {
  local log=$WORK/server.log
  : >"$log"
  $(pin 0) "$SERVER" --addr 127.0.0.1:0 --log-format json "$@" 2>"$log" >/dev/null &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    if grep -q '"corpus loaded; serving"' "$log"; then break; fi
    sleep 0.1
  done
  ADDR=$(grep -m1 '"listening"' "$log" | sed -E 's/.*"addr":"([^"]+)".*/\1/')
  LOAD_MS=$(grep -m1 '"corpus loaded; serving"' "$log" | sed -E 's/.*"millis":([0-9]+).*/\1/')
}
stop() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; }
rate() { python3 -c "print(f'{$1 / ($2 / 1000):.0f}')"; }

# Start-up load of the same files.
start --corpus "$WORK/corpus"
echo "start-up load: ${#FILES[@]} docs in ${LOAD_MS} ms = $(rate "${#FILES[@]}" "$LOAD_MS") docs/s  (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
BASE=$(rate "${#FILES[@]}" "$LOAD_MS")
stop

# One IngestDocuments stream of the same files; prints docs/s and the share of the load rate.
stream() {
  local label=$1
  shift
  start --corpus "$WORK/empty" "$@"
  local t0 t1 ms
  t0=$(date +%s%N)
  $(pin 1) "$CLIENT" --addr "$ADDR" ingest "${FILES[@]}" >"$WORK/acks" 
  t1=$(date +%s%N)
  ms=$(( (t1 - t0) / 1000000 ))
  local acked
  acked=$(grep -c -E ' (created|replaced)$' "$WORK/acks" || true)
  local r
  r=$(rate "$acked" "$ms")
  echo "$label: $acked docs acknowledged in $ms ms = $r docs/s = $(python3 -c "print(f'{100 * $r / $BASE:.0f}')")% of start-up loading  (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  stop
}
stream "ingest, in memory"
stream "ingest, --data-dir" --data-dir "$WORK/data1"

# PostgreSQL: the given URL, or a throwaway server from the Debian packages.
PGURL=${DOSSIER_BENCH_PG:-}
if [ -z "$PGURL" ] && pg_throwaway "$WORK/pg"; then PGPID=1; fi
if [ -n "$PGURL" ]; then
  stream "ingest, --store PostgreSQL" --store "$PGURL"
  # A replica joining that corpus: loads it from the database.
  start --store "$PGURL"
  echo "replica joining: ${#FILES[@]} docs from PostgreSQL in ${LOAD_MS} ms = $(python3 -c "print(f'{$LOAD_MS / (1000 * ${#FILES[@]} / $BASE):.2f}')")x the start-up load from files  (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  stop
fi

# kill -9 in the middle of a --data-dir stream: every acknowledged document is there after.
start --corpus "$WORK/empty" --data-dir "$WORK/data2"
($(pin 1) "$CLIENT" --addr "$ADDR" ingest "${FILES[@]}" >"$WORK/acks" 2>/dev/null || true) &
CLIENT_PID=$!
sleep "${KILL_AFTER:-1}"
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
wait "$CLIENT_PID" || true
grep -E ' (created|replaced)$' "$WORK/acks" | awk '{print $2}' | sort >"$WORK/acked"
start --corpus "$WORK/empty" --data-dir "$WORK/data2"
"$CLIENT" --addr "$ADDR" --json docs list --all | python3 -c '
import json, sys
dec = json.JSONDecoder(); s = sys.stdin.read(); i = 0
while i < len(s):
    while i < len(s) and s[i].isspace(): i += 1
    if i >= len(s): break
    v, i = dec.raw_decode(s, i)
    for d in v.get("documents", [v]) if isinstance(v, dict) else []:
        if "id" in d: print(d["id"])
' | sort >"$WORK/present"
stop
echo "kill -9 during a --data-dir stream: $(wc -l <"$WORK/acked") acknowledged, $(wc -l <"$WORK/present") present after the restart, acknowledged and missing: $(comm -23 "$WORK/acked" "$WORK/present" | wc -l)"
