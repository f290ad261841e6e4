#!/usr/bin/env bash
# Long fuzzing runs, each stopped when its coverage stops growing: builds the targets
# optimised (cargo-fuzz --release) and runs each one until no new edge ("cov") has been
# found for PLATEAU seconds, or for MAX seconds at most. The corpus each run grows is kept
# (CORPUS_DIR/<target>), so a later run starts where the last one stopped.
#
#   bash server/fuzz/plateau.sh                 # every target
#   PLATEAU=300 MAX=1800 bash server/fuzz/plateau.sh query claims
#
# Prints, per target, a line like
#   query: stopped at 1460 s (plateau): 1,234,567 execs, cov 3620 ft 16011, last new cov at 860 s
# A crash stops the run with the fuzzer's exit status and leaves the input in
# server/fuzz/artifacts/<target>/ (keep it under server/fuzz/regressions/<target>/ once fixed).
set -euo pipefail
cd "$(dirname "$0")/../.."

PLATEAU=${PLATEAU:-600}
MAX=${MAX:-3600}
export RUSTC_BOOTSTRAP=1
target_dir=${DOSSIER_FUZZ_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dossier/fuzz-target}
corpus_root=${CORPUS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dossier/fuzz-corpus}
opts=(--fuzz-dir server/fuzz --sanitizer none --release --target-dir "$target_dir")

cargo fuzz build "${opts[@]}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list --fuzz-dir server/fuzz)
fi
bin_dir="$target_dir/x86_64-unknown-linux-gnu/release"
mkdir -p "$corpus_root"

for target in "${targets[@]}"; do
  corpus="$corpus_root/$target"
  mkdir -p "$corpus" "server/fuzz/artifacts/$target"
  seeds=(seeds)
  [ -d "server/fuzz/regressions/$target" ] && seeds+=("server/fuzz/regressions/$target")
  status=0
  "$bin_dir/$target" -artifact_prefix="server/fuzz/artifacts/$target/" \
    -max_total_time="$MAX" -timeout=10 -max_len=16384 -rss_limit_mb=4096 \
    -print_final_stats=1 "$corpus" "${seeds[@]}" 2>&1 |
    python3 -c '
import os, re, signal, subprocess, sys, time
target, plateau = sys.argv[1], float(sys.argv[2])
start = time.time()
cov = ft = execs = 0
last_new = 0.0
log = open(os.path.join(sys.argv[3], target + ".log"), "w")
reason = "time limit or exit"
for line in sys.stdin:
    now = time.time() - start
    log.write(f"{now:8.1f} {line}")
    m = re.match(r"#(\d+)\s+\S+\s+cov: (\d+) ft: (\d+)", line)
    if m:
        execs = int(m.group(1))
        if int(m.group(2)) > cov:
            cov, last_new = int(m.group(2)), now
        ft = max(ft, int(m.group(3)))
    m = re.match(r"stat::number_of_executed_units: (\d+)", line)
    if m:
        execs = int(m.group(1))
    if "ERROR: libFuzzer" in line or "panicked" in line:
        reason = "crash"
    if cov and now - last_new >= plateau and reason != "crash":
        reason = "plateau"
        subprocess.run(["pkill", "-INT", "-f", f"release/{target} -artifact_prefix"])
        plateau = float("inf")
elapsed = time.time() - start
print(f"{target}: stopped at {elapsed:.0f} s ({reason}): {execs:,} execs, cov {cov} ft {ft}, last new cov at {last_new:.0f} s", flush=True)
' "$target" "$PLATEAU" "$corpus_root" || status=$?
  if grep -q "ERROR: libFuzzer\|panicked" "$corpus_root/$target.log"; then
    echo "$target: crash, see $corpus_root/$target.log and server/fuzz/artifacts/$target/" >&2
    exit 1
  fi
done
