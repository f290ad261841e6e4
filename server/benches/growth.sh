#!/usr/bin/env bash
# How load time and memory grow with the corpus: the release server started on 1x, 4x and 16x
# a base corpus (BBC, replicated under new ids into a temporary .jsonl), one run each.
#
#   server/benches/growth.sh [BASE_DIR] [FACTORS...]      # default: ../shared/data/news/bbc 1 4 16
#
# For each size it reports the server's own load time (log line "corpus loaded; serving",
# millis=: reading, analysing on every core, indexing), the resident set once serving (VmRSS)
# and its peak (VmHWM, = /usr/bin/time -v's "Maximum resident set size"), and both divided by
# the corpus's text bytes (the documents' `text` fields, as GetCorpusStats counts them).
# Linear growth shows as flat ms/MB and RSS/MB columns down the table.
set -euo pipefail
cd "$(dirname "$0")/../.."
BASE=${1:-../shared/data/news/bbc}
shift || true
FACTORS=("${@:-1 4 16}")
read -r -a FACTORS <<<"${FACTORS[*]}"
PORT=${PORT:-50391}
cargo build -q --release -p dossier-server --bin dossier-server
TMP=$(mktemp -d)
SERVER_PID=
cleanup() {
    if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT

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

echo "machine: $(nproc) cores; $(uptime | sed 's/.*load/load/'); base: $BASE"
ROWS=()
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
    read -r DOCS BYTES < <(python3 -c '
import json, sys
n = b = 0
for l in open(sys.argv[1], encoding="utf-8"):
    n += 1; b += len(json.loads(l)["text"].encode())
print(n, b)' "$CORPUS")
    LOG="$TMP/server-$k.log"
    /usr/bin/time -v -o "$TMP/time-$k.txt" target/release/dossier-server --addr "127.0.0.1:$PORT" \
        --corpus "$CORPUS" --log-format json 2>"$LOG" &
    TIME_PID=$!
    SERVER_PID=
    for _ in $(seq 1 600); do
        SERVER_PID=$(pgrep -P "$TIME_PID" -x dossier-server || true)
        [[ -n $SERVER_PID ]] && break
        sleep 0.1
    done
    for _ in $(seq 1 3000); do
        grep -q 'corpus loaded; serving' "$LOG" && break
        kill -0 "$SERVER_PID" 2>/dev/null || { echo "server died:"; cat "$LOG"; exit 1; }
        sleep 0.2
    done
    MILLIS=$(grep 'corpus loaded; serving' "$LOG" | sed -E 's/.*"millis":([0-9]+).*/\1/')
    sleep 1 # let the loader's buffers go back before reading the steady resident set
    RSS=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status")
    HWM=$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status")
    kill -TERM "$SERVER_PID"
    wait "$TIME_PID" || true
    SERVER_PID=
    MAXRSS=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$TMP/time-$k.txt")
    ROWS+=("$k $DOCS $BYTES $MILLIS $RSS $HWM $MAXRSS")
    echo "  ${k}x: $DOCS docs, $BYTES text bytes: loaded in $MILLIS ms; VmRSS $RSS KiB, VmHWM $HWM KiB, time -v max RSS $MAXRSS KiB"
done

python3 - "${ROWS[@]}" <<'EOF'
import sys
rows = [list(map(int, r.split())) for r in sys.argv[1:]]
print()
print("| corpus | documents | text MB | load s | load ms/MB | RSS serving MiB | peak RSS MiB | RSS / text bytes | peak / text bytes | growth vs 1x (load, RSS) |")
print("|---|---|---|---|---|---|---|---|---|---|")
k0, _, b0, m0, r0, h0, x0 = rows[0]
for k, docs, b, ms, rss, hwm, mx in rows:
    mb = b / 1e6
    print(f"| {k}x | {docs} | {mb:.1f} | {ms/1000:.1f} | {ms/mb:.0f} | {rss/1024:.0f} | {mx/1024:.0f} | "
          f"{rss*1024/b:.2f} | {mx*1024/b:.2f} | {ms/m0:.1f}x, {rss/r0:.1f}x for {b/b0:.0f}x text |")
EOF
