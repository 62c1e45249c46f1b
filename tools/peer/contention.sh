#!/usr/bin/env bash
# Throughput while another process holds one core (docs/SPEC.md §8: at least 40% of the quiet figure).
# Runs `lazarus bench --only WORKLOADS --json` on quiet cores, then again while `yes > /dev/null` (pinned to
# the last usable core) takes one, and prints both JSON lines and the ratio of each timed figure. Only
# meaningful when the machine is otherwise quiet: the load average is printed beside every run.
# Usage: tools/peer/contention.sh [WORKLOADS, default lora,prefill]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
binary="${LAZARUS_BINARY:-$root/.build/release/lazarus}"
only="${1:-lora,prefill}"
last_core="$(($(nproc) - 1))"

run() { "$binary" bench --only "$only" --json; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
quiet="$(run)"
taskset -c "$last_core" yes > /dev/null &
hog=$!
trap 'kill "$hog" 2>/dev/null || true' EXIT
sleep 2 # one sampling window of the BLAS loader, so the run starts with the core already taken
held="$(run)"
kill "$hog"; wait "$hog" 2>/dev/null || true
trap - EXIT
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
python3 - "$quiet" "$held" <<'PY'
import json, sys
quiet, held = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({"quiet": quiet, "one_core_held": held}))
for key, better in [("sgemm_gflops_1024", "higher"), ("sgemm_gflops_2048", "higher"), ("lora_step_s", "lower"), ("prefill_tokens_per_s", "higher"), ("lens_sweep_s", "lower"),
                    ("decode_tokens_per_s", "higher"), ("decode_single_tokens_per_s", "higher"),
                    ("native_prefill_tokens_per_s", "higher"), ("native_decode_single_tokens_per_s", "higher")]:
    a, b = quiet.get(key, 0), held.get(key, 0)
    if a and b:
        kept = b / a if better == "higher" else a / b
        print(f"{key}: quiet {a:.4g}, one core held {b:.4g}: {100 * kept:.0f}% of quiet throughput "
              f"(threads {quiet.get('threads')} -> {held.get('threads')})", file=sys.stderr)
PY
