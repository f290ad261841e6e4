#!/usr/bin/env bash
# How load time and memory grow with the corpus: the release server started on 1x, 4x and 16x
# a base corpus (BBC, replicated under new ids into a temporary .jsonl), one run each.
#
#   server/benches/growth.sh [BASE_DIR] [FACTORS...]      # default: ../shared/data/news/bbc 1 4 16
#   server/benches/growth.sh --corpus PATH [--corpus PATH…]  # one corpus as it is (no copies)
#
# First the fixed base: the server's resident set on a tiny corpus (the seeds: the models,
# the runtime, the empty index). Then for each size: the server's own load time (log line
# "corpus loaded; serving", millis=: reading, analysing on every core, indexing), the peak
# of loading (VmHWM once serving), the resident set once serving and settled (VmRSS, $SETTLE
# = 12 s later), the resident set once the lazily built entity registry and claim set exist
# (after one ListEntities and one ListDisputes call, settled: "warm"), and the overall peak
# (/usr/bin/time -v's "Maximum resident set size"). Memory is reported
# as (RSS - base) / text bytes, the text bytes being the documents' `text` as GetCorpusStats
# counts them. Linear growth shows as flat ms/MB and ratio columns down the table.
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT=${PORT:-50391}
CORPORA=()
if [[ ${1:-} == --corpus ]]; then
    while [[ $# -gt 0 ]]; do
        [[ $1 == --corpus && $# -ge 2 ]] || { echo "usage: $0 --corpus PATH [--corpus PATH…]" >&2; exit 2; }
        CORPORA+=("$2")
        shift 2
    done
else
    BASE=${1:-../shared/data/news/bbc}
    shift || true
    FACTORS=("${@:-1 4 16}")
    read -r -a FACTORS <<<"${FACTORS[*]}"
fi
# BIN: a folder with a dossier-server to measure as it is (e.g. an older build); default: build
# target/release. The client is always target/release/dossier.
if [[ -z ${BIN:-} ]]; then
    cargo build -q --release -p dossier-server --bin dossier-server
fi
BIN=${BIN:-target/release}
cargo build -q --release -p dossier-client
TMP=$(mktemp -d)
SERVER_PID=
cleanup() {
    if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT

kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$SERVER_PID/status"; }

# measure LABEL CORPUS_ARGS… → one line "label docs text_bytes millis rss hwm warm_rss warm_hwm maxrss"
measure() {
    local label=$1
    shift
    local log="$TMP/server-$label.log"
    /usr/bin/time -v -o "$TMP/time-$label.txt" "$BIN"/dossier-server --addr "127.0.0.1:$PORT" \
        "$@" --log-format json 2>"$log" &
    local time_pid=$!
    SERVER_PID=
    for _ in $(seq 1 600); do
        SERVER_PID=$(pgrep -P "$time_pid" -x dossier-server || true)
        [[ -n $SERVER_PID ]] && break
        sleep 0.1
    done
    for _ in $(seq 1 3000); do
        grep -q 'corpus loaded; serving' "$log" && break
        kill -0 "$SERVER_PID" 2>/dev/null || { echo "server died:" >&2; cat "$log" >&2; exit 1; }
        sleep 0.2
    done
    local millis
    millis=$(grep 'corpus loaded; serving' "$log" | sed -E 's/.*"millis":([0-9]+).*/\1/')
    local hwm
    hwm=$(kib VmHWM) # the peak of loading
    # The steady resident set: jemalloc's background threads give freed pages back after
    # its 10 s decay.
    sleep "${SETTLE:-12}"
    local rss
    rss=$(kib VmRSS)
    local client=(target/release/dossier --addr "127.0.0.1:$PORT" --json)
    local stats
    stats=$("${client[@]}" stats)
    "${client[@]}" entities list --page-size 1 >/dev/null
    "${client[@]}" disputes >/dev/null
    local warm_hwm
    warm_hwm=$(kib VmHWM)
    sleep "${SETTLE:-12}"
    local warm
    warm=$(kib VmRSS)
    kill -TERM "$SERVER_PID"
    wait "$time_pid" || true
    SERVER_PID=
    local maxrss
    maxrss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$TMP/time-$label.txt")
    read -r docs bytes < <(python3 -c '
import json, sys
s = json.loads(sys.argv[1])
print(s.get("documents", 0), s.get("textBytes", 0))' "$stats")
    echo "$label $docs $bytes $millis $rss $hwm $warm $warm_hwm $maxrss"
}

echo "machine: $(nproc --all) cores; $(uptime | sed 's/.*load/load/')"
read -r _ _ _ _ BASE_RSS BASE_HWM _ _ _ < <(measure base --corpus seeds)
echo "base (the seeds: models, runtime, empty index): VmRSS $BASE_RSS KiB, VmHWM $BASE_HWM KiB"

ROWS=()
if [[ ${#CORPORA[@]} -gt 0 ]]; then
    ARGS=()
    for c in "${CORPORA[@]}"; do ARGS+=(--corpus "$c"); done
    ROWS+=("$(measure corpus "${ARGS[@]}")")
else
    echo "base corpus: $BASE"
    # The base corpus as records: BBC's category folders of .txt (title = first line), or a .jsonl.
    python3 - "$BASE" "$TMP/base.jsonl" <<'EOF'
import json, os, sys
base, out = sys.argv[1], sys.argv[2]
records = []
if os.path.isdir(base):
    for root, dirs, files in sorted(os.walk(base)):
        dirs.sort()
        if root == base:
            continue  # the dataset's README and manifest
        for name in sorted(files):
            if not name.endswith(".txt"):
                continue
            raw = open(os.path.join(root, name), encoding="utf-8", errors="replace").read()
            title, _, text = raw.strip().partition("\n")
            cat = os.path.basename(root)
            records.append({"id": f"{cat}-{name[:-4]}", "title": title.strip(), "text": text.strip(), "source": cat})
else:
    with open(base, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if line.strip():
                r = json.loads(line)
                records.append({"id": str(r.get("id") or r.get("_id") or i), "title": r.get("title", ""),
                                "text": r.get("text") or r.get("body") or "", "source": r.get("source", "base")})
with open(out, "w", encoding="utf-8") as f:
    for r in records:
        f.write(json.dumps(r) + "\n")
EOF
    for k in "${FACTORS[@]}"; do
        CORPUS="$TMP/x$k.jsonl"
        python3 - "$TMP/base.jsonl" "$CORPUS" "$k" <<'EOF'
import json, sys
src, out, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = [json.loads(l) for l in open(src, encoding="utf-8")]
with open(out, "w", encoding="utf-8") as f:
    for copy in range(k):
        for r in lines:
            f.write(json.dumps(dict(r, id=f"c{copy}-{r['id']}")) + "\n")
EOF
        ROWS+=("$(measure "${k}x" --corpus "$CORPUS")")
    done
fi
for row in "${ROWS[@]}"; do
    read -r label docs bytes millis rss hwm warm warm_hwm maxrss <<<"$row"
    echo "  $label: $docs docs, $bytes text bytes: loaded in $millis ms; VmRSS $rss KiB, VmHWM $hwm KiB; warm VmRSS $warm KiB, VmHWM $warm_hwm KiB; time -v max RSS $maxrss KiB"
done

python3 - "$BASE_RSS" "${ROWS[@]}" <<'EOF'
import sys
base = int(sys.argv[1])
rows = [r.split() for r in sys.argv[2:]]
print()
print(f"base {base/1024:.0f} MiB; ratios are (RSS - base) / text bytes")
print("| corpus | documents | text MB | load s | load ms/MB | RSS MiB | (RSS-base)/text | load peak MiB | (peak-base)/text | warm RSS MiB | (warm-base)/text | overall peak MiB | (peak-base)/text | growth vs first (load, RSS-base) |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
first = None
for label, docs, b, ms, rss, hwm, warm, warm_hwm, mx in rows:
    b, ms, rss, hwm, warm, mx = int(b), int(ms), int(rss), int(hwm), int(warm), int(mx)
    mb = b / 1e6
    ratio = lambda kib: (kib - base) * 1024 / b
    if first is None:
        first = (b, ms, rss)
    growth = f"{ms/first[1]:.1f}x, {(rss-base)/max(first[2]-base,1):.1f}x for {b/first[0]:.0f}x text"
    print(f"| {label} | {docs} | {mb:.1f} | {ms/1000:.1f} | {ms/mb:.0f} | {rss/1024:.0f} | {ratio(rss):.2f} | "
          f"{hwm/1024:.0f} | {ratio(hwm):.2f} | {warm/1024:.0f} | {ratio(warm):.2f} | {mx/1024:.0f} | {ratio(mx):.2f} | {growth} |")
EOF
