#!/usr/bin/env bash
# A new replica joining a corpus held in PostgreSQL (issue 18): loads BBC + Reuters-21578 from
# files at start-up (the reference), ingests the same files into PostgreSQL through one
# --store replica (`dossier ingest`, one stream), then starts a second replica that loads
# everything from the database, and compares the two start-up times (target: ≤ 1.5×).
#
#   bash server/benches/join.sh [CORPUS…]    # default: ../shared/data/news/bbc and …/reuters21578_flat.jsonl
#
# Uses DOSSIER_BENCH_PG (a URL of an empty database) or a throwaway PostgreSQL from the Debian
# packages. Server pinned to core 0 (PIN=0: unpinned); prints the load average.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=server/benches/pg-throwaway.sh
. server/benches/pg-throwaway.sh
if [ $# -gt 0 ]; then CORPUS=("$@"); else
  CORPUS=(../shared/data/news/bbc ../shared/data/news/reuters21578/reuters21578_flat.jsonl); fi
bench_setup join
start() {
  local log=$WORK/server.log
  : >"$log"
  $(pin 0) "$SERVER" --addr 127.0.0.1:0 --log-format json "$@" 2>"$log" >/dev/null &
  SERVER_PID=$!
  for _ in $(seq 1 1200); do
    if grep -q '"corpus loaded; serving"' "$log"; then break; fi
    sleep 0.1
  done
  ADDR=$(grep -m1 '"listening"' "$log" | sed -E 's/.*"addr":"([^"]+)".*/\1/')
  LOAD_MS=$(grep -m1 '"corpus loaded; serving"' "$log" | sed -E 's/.*"millis":([0-9]+).*/\1/')
  DOCS=$(grep -m1 '"corpus loaded; serving"' "$log" | sed -E 's/.*"docs":([0-9]+).*/\1/')
}
stop() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; }
avg() { cut -d' ' -f1-3 /proc/loadavg; }

PGURL=${DOSSIER_BENCH_PG:-}
if [ -z "$PGURL" ]; then
  pg_throwaway "$WORK/pg" || { echo "no PostgreSQL (set DOSSIER_BENCH_PG or install postgresql)"; exit 1; }
  PGPID=1
fi
args=()
for c in "${CORPUS[@]}"; do args+=(--corpus "$c"); done
start "${args[@]}"
FILE_MS=$LOAD_MS
echo "from files: $DOCS docs in $FILE_MS ms  (load average: $(avg))"
stop

# Into the database through one replica, as clients would write it.
mkdir -p "$WORK/empty"
start --corpus "$WORK/empty" --store "$PGURL"
# Folders flattened under the ids the loader gives their files (folder-stem), so that the
# client's ids (file stems) are the same documents.
files=()
mkdir -p "$WORK/flat"
for c in "${CORPUS[@]}"; do
  if [ -d "$c" ]; then
    while IFS= read -r f; do
      rel=${f#"$c"/}
      link="$WORK/flat/${rel//\//-}"
      ln -s "$(realpath "$f")" "$link"
      files+=("$link")
    done < <(find "$c" -name '*.txt' | sort)
  else files+=("$c"); fi
done
t0=$(date +%s%N)
"$CLIENT" --addr "$ADDR" ingest "${files[@]}" | grep -c -E ' (created|replaced)$' >"$WORK/acked" || true
t1=$(date +%s%N)
echo "ingested through a --store replica: $(cat "$WORK/acked") docs in $(( (t1 - t0) / 1000000 )) ms  (load average: $(avg))"
stop

start --corpus "$WORK/empty" --store "$PGURL"
echo "a new replica joining: $DOCS docs from PostgreSQL in $LOAD_MS ms = $(python3 -c "print(f'{$LOAD_MS / $FILE_MS:.2f}')")x the load from files  (load average: $(avg))"
stop
