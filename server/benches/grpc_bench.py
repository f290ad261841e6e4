#!/usr/bin/env python3
"""AnalyzeEntities + ExtractClaims over gRPC from Python, with a client Dossier did not write.

The client is the official `grpcio` package; the request and response classes are built at
run time from the server's own reflection service (grpcio-reflection's
`ProtoReflectionDescriptorDatabase` behind a `protobuf` `DescriptorPool`, classes from
`message_factory.GetMessageClass`), not generated from Dossier's proto files: what a team
that only has the server's address would do.

The input is JSON lines {"id", "text", "words"} (`dossier-eval bench-analysis --dump-texts`:
the articles as the server holds them and Dossier's word count for each, tokens holding a
letter or digit, the same unit spacy_bench.py divides by). Each text is sent one at a time,
through AnalyzeEntities and then ExtractClaims (each call waits for its answer, which is
decoded into Python message objects), over one channel. words/s = words / wall time of a
pass. One untimed warm-up pass, then `--runs` timed passes; best and median are reported.

With `--server-pid` the server's CPU time over each pass (utime + stime of /proc/PID/stat)
gives the server's CPU per word, beside the client's own CPU (process time).

After the timed passes one more, untimed pass checks every answer: each span's `text` is
the request text at [begin, end) in the encoding asked for, so a fast wrong answer cannot
pass.

Setup (once, from the repository root):
    python3 -m venv .venv-bench
    .venv-bench/bin/pip install grpcio grpcio-reflection protobuf

Usage:
    .venv-bench/bin/python server/benches/grpc_bench.py TEXTS.jsonl --addr 127.0.0.1:50051 \
        [--runs 3] [--encoding UTF32] [--view BASIC] [--server-pid PID] [--json]
"""

import argparse
import json
import os
import statistics
import sys
import time

import grpc
from google.protobuf import descriptor_pool, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

ENTITY = "dossier.v1.EntityService"
CLAIM = "dossier.v1.ClaimService"


class Counted:
    """A response deserializer that also adds up the bytes it was given."""

    def __init__(self, cls):
        self.cls = cls
        self.bytes = 0

    def __call__(self, data):
        self.bytes += len(data)
        return self.cls.FromString(data)


def rpc(channel, pool, service, method):
    """A unary callable for `service/method`, its request class and its byte counter."""
    m = pool.FindServiceByName(service).FindMethodByName(method)
    request = message_factory.GetMessageClass(m.input_type)
    counted = Counted(message_factory.GetMessageClass(m.output_type))
    # As grpcio-tools' generated stubs call it (`_registered_method=True` since grpcio 1.62:
    # the method is registered with the channel once instead of per call).
    call = channel.unary_unary(
        f"/{service}/{method}",
        request_serializer=request.SerializeToString,
        response_deserializer=counted,
        _registered_method=True,
    )
    return call, request, counted


def server_cpu(pid):
    """utime + stime of process `pid`, in seconds (None without a pid)."""
    if not pid:
        return None
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the command: state is field 3, utime 14 and stime 15 (1-based, man 5 proc).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def to_units(text, encoding):
    """Offset unit → a function taking a (begin, end) span to the substring of `text`."""
    if encoding in ("UTF32",):
        return lambda b, e: text[b:e]
    if encoding == "UTF16":
        data = text.encode("utf-16-le")
        return lambda b, e: data[2 * b : 2 * e].decode("utf-16-le")
    data = text.encode("utf-8")
    return lambda b, e: data[b:e].decode("utf-8")


def check_span(sub, span, where):
    if not span.text and span.begin == span.end == 0:
        return 0
    got = sub(span.begin, span.end)
    if got != span.text:
        raise SystemExit(f"{where}: span [{span.begin}, {span.end}) is {got!r}, the answer says {span.text!r}")
    return 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("texts", help="JSON lines from dossier-eval bench-analysis --dump-texts")
    ap.add_argument("--addr", default="127.0.0.1:50051")
    ap.add_argument("--runs", type=int, default=3, help="timed passes (after a warm-up)")
    ap.add_argument("--limit", type=int, default=0, help="use the first N texts only (0: all)")
    ap.add_argument("--encoding", default="UTF32", help="UTF8, UTF16 or UTF32 (Python's unit: code points)")
    ap.add_argument("--view", default="", help="the requests' view (e.g. BASIC, FULL); empty: not set")
    ap.add_argument("--server-pid", type=int, default=0, help="the server's pid, for its CPU time")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()

    with open(args.texts, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    if args.limit:
        records = records[: args.limit]
    words = sum(r["words"] for r in records)
    text_bytes = sum(len(r["text"].encode("utf-8")) for r in records)

    options = [("grpc.max_receive_message_length", 64 << 20)]
    channel = grpc.insecure_channel(args.addr, options=options)
    grpc.channel_ready_future(channel).result(timeout=30)
    pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
    analyze, analyze_req, analyze_bytes = rpc(channel, pool, ENTITY, "AnalyzeEntities")
    extract, extract_req, extract_bytes = rpc(channel, pool, CLAIM, "ExtractClaims")

    def request(cls, text):
        fields = {"text": text, "encoding": args.encoding}
        if args.view:
            fields["view"] = args.view
        return cls(**fields)

    # Requests are built once: the pass times the calls, not Python building messages.
    requests = [(request(analyze_req, r["text"]), request(extract_req, r["text"])) for r in records]

    def one_pass():
        entities = mentions = claims = 0
        for a, e in requests:
            ra = analyze(a, timeout=60)
            rc = extract(e, timeout=60)
            entities += len(ra.entities)
            mentions += sum(len(x.mentions) for x in ra.entities)
            claims += len(rc.claims)
        return entities, mentions, claims

    one_pass()  # warm-up: connection, reflection, first-call allocations
    wall, client_cpu, srv_cpu = [], [], []
    resp = (0, 0)
    for _ in range(max(1, args.runs)):
        analyze_bytes.bytes = extract_bytes.bytes = 0
        s0, c0, w0 = server_cpu(args.server_pid), time.process_time(), time.perf_counter()
        counts = one_pass()
        wall.append(time.perf_counter() - w0)
        client_cpu.append(time.process_time() - c0)
        s1 = server_cpu(args.server_pid)
        if s0 is not None:
            srv_cpu.append(s1 - s0)
        resp = (analyze_bytes.bytes, extract_bytes.bytes)

    # The check pass (untimed): every span is the text it claims to cover.
    checked = 0
    for r, (a, e) in zip(records, requests):
        sub = to_units(r["text"], args.encoding)
        for ent in analyze(a, timeout=60).entities:
            for m in ent.mentions:
                checked += check_span(sub, m.span, f"{r['id']} mention")
                if m.HasField("sentence"):
                    checked += check_span(sub, m.sentence, f"{r['id']} mention sentence")
        for c in extract(e, timeout=60).claims:
            checked += check_span(sub, c.content, f"{r['id']} claim content")
            if c.HasField("sentence"):
                checked += check_span(sub, c.sentence, f"{r['id']} claim sentence")
            for q in c.quantities:
                checked += check_span(sub, q.span, f"{r['id']} quantity")

    best = min(range(len(wall)), key=wall.__getitem__)
    report = {
        "grpcio": grpc.__version__,
        "addr": args.addr,
        "encoding": args.encoding,
        "view": args.view or "(unset)",
        "documents": len(records),
        "words": words,
        "text_bytes": text_bytes,
        "entities": counts[0],
        "mentions": counts[1],
        "claims": counts[2],
        "spans_checked": checked,
        "runs": len(wall),
        "best_wall_seconds": wall[best],
        "median_wall_seconds": statistics.median(wall),
        "best_words_per_sec": words / wall[best],
        "median_words_per_sec": words / statistics.median(wall),
        "analyze_response_bytes": resp[0],
        "extract_response_bytes": resp[1],
        "analyze_bytes_per_text_byte": resp[0] / text_bytes,
        "extract_bytes_per_text_byte": resp[1] / text_bytes,
        "client_cpu_seconds_best_pass": client_cpu[best],
        "server_cpu_seconds_best_pass": srv_cpu[best] if srv_cpu else None,
        "server_cpu_seconds_min": min(srv_cpu) if srv_cpu else None,
        "server_cpu_ns_per_word": 1e9 * min(srv_cpu) / words if srv_cpu else None,
    }
    if args.json:
        print(json.dumps(report))
    else:
        for k, v in report.items():
            print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
