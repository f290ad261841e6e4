#!/usr/bin/env bash
# Long fuzzing runs, each stopped when its coverage stops growing: builds the targets
# optimised (cargo-fuzz --release) and runs each one until no new edge ("cov") has been
# found for PLATEAU seconds of the fuzzer's CPU time, or for MAX seconds (wall clock) at most. The corpus each run grows is kept
# (CORPUS_DIR/<target>), so a later run starts where the last one stopped.
#
#   bash server/fuzz/plateau.sh                 # every target
#   PLATEAU=300 MAX=1800 bash server/fuzz/plateau.sh query claims
#
# Prints, per target, a line like
#   query: stopped after 1460 CPU s (plateau): 1,234,567 execs, cov 3620 ft 16011, last new cov at 860 CPU s
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
import os, re, subprocess, sys, threading, time, types
target, plateau = sys.argv[1], float(sys.argv[2])
# Time is the fuzzer process own CPU time, so that a run starved by other work on the
# machine does not count as fuzzing without progress. (Do not pause a run with SIGSTOP:
# libFuzzer would report the input in flight as a timeout.)
pattern = f"release/{target} -artifact_prefix"
def cpu_seconds():
    pids = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()
    try:
        fields = open(f"/proc/{pids[0]}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None
state = types.SimpleNamespace(cpu=0.0, cov=0, ft=0, execs=0, last_new=0.0, reason="time limit or exit")
lock = threading.Lock()
def watch():
    while True:
        time.sleep(5)
        cpu = cpu_seconds()
        with lock:
            if cpu is not None:
                state.cpu = cpu
            if state.reason != "time limit or exit":
                return
            if state.cov and state.cpu - state.last_new >= plateau:
                state.reason = "plateau"
                subprocess.run(["pkill", "-INT", "-f", pattern])
                return
threading.Thread(target=watch, daemon=True).start()
log = open(os.path.join(sys.argv[3], target + ".log"), "w")
for line in sys.stdin:
    with lock:
        log.write(f"{state.cpu:8.1f} {line}")
        m = re.match(r"#(\d+)\s+\S+\s+cov: (\d+) ft: (\d+)", line)
        if m:
            state.execs = int(m.group(1))
            if int(m.group(2)) > state.cov:
                state.cov, state.last_new = int(m.group(2)), state.cpu
            state.ft = max(state.ft, int(m.group(3)))
        m = re.match(r"stat::number_of_executed_units: (\d+)", line)
        if m:
            state.execs = int(m.group(1))
        if "ERROR: libFuzzer" in line or "panicked" in line:
            state.reason = "crash"
print(f"{target}: stopped after {state.cpu:.0f} CPU s ({state.reason}): {state.execs:,} execs, cov {state.cov} ft {state.ft}, last new cov at {state.last_new:.0f} CPU s", flush=True)
' "$target" "$PLATEAU" "$corpus_root" || status=$?
  if grep -q "ERROR: libFuzzer\|panicked" "$corpus_root/$target.log"; then
    echo "$target: crash, see $corpus_root/$target.log and server/fuzz/artifacts/$target/" >&2
    exit 1
  fi
done
