#!/usr/bin/env bash
# Fuzzing in CI: builds every cargo-fuzz (libFuzzer) target in server/fuzz and runs each
# briefly from the kept inputs (server/fuzz/regressions/<target>/, which libFuzzer replays
# first) and the seed articles. A crash, a hang past the per-input timeout, or a build
# failure fails the script. Long runs: `DOSSIER_FUZZ_SECONDS=600 bash .ci/fuzz.sh`, or one
# target as below. `cargo test` replays the kept inputs too (server/tests/fuzz_regressions.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${DOSSIER_FUZZ_SECONDS:-15}
# cargo-fuzz passes nightly-only flags (-Zsanitizer…, -Cpasses=sancov…); stable rustc
# accepts them with RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP=1
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}
# The fuzz build instruments every crate; keep it outside the clone so that later runs on
# the same machine rebuild only what changed.
target_dir=${DOSSIER_FUZZ_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dossier/fuzz-target}

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
fuzz=(cargo fuzz)
# No sanitizer: Dossier forbids unsafe code, so AddressSanitizer would mostly slow the
# search down; panics, overflows (debug assertions are on) and hangs are what it finds.
# CI's runs are brief, so the build is what costs: unoptimised by default (cargo-fuzz's release
# build uses one codegen unit and took 20+ minutes cold on two busy cores). For long runs:
# DOSSIER_FUZZ_BUILD=--release.
build_mode=${DOSSIER_FUZZ_BUILD:---dev}
opts=(--fuzz-dir server/fuzz --sanitizer none "$build_mode" --target-dir "$target_dir")

started=$(date +%s)
"${fuzz[@]}" build "${opts[@]}"
echo "fuzz targets built in $(( $(date +%s) - started )) s"

for target in $("${fuzz[@]}" list --fuzz-dir server/fuzz); do
  work=$(mktemp -d)
  seeds=()
  [ -d "server/fuzz/regressions/$target" ] && seeds+=("server/fuzz/regressions/$target")
  seeds+=(seeds)
  echo "== fuzz $target for ${seconds} s"
  log="$work.log"
  status=0
  "${fuzz[@]}" run "${opts[@]}" "$target" "$work" "${seeds[@]}" -- \
    -max_total_time="$seconds" -timeout=10 -max_len=16384 -rss_limit_mb=4096 \
    -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E '^#[0-9]+ +(INITED|DONE)|^stat::number_of_executed_units' "$log" || true
  rm -rf "$work"
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$log" >&2
    echo "fuzz target $target failed (exit $status); the input is under server/fuzz/artifacts/$target/" >&2
    exit 1
  fi
  rm -f "$log"
done
echo "fuzzing passed in $(( $(date +%s) - started )) s"
