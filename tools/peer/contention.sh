#!/usr/bin/env bash
# Throughput while another process holds one core (issue 11: each command keeps at least 40% of its quiet figure).
# Runs `lazarus bench --only WORKLOADS --json` on quiet cores, then again while a `yes > /dev/null` busy loop at
# normal priority (nice 0, pinned to the last usable core) takes one, and prints both JSON objects, the ratio of
# each timed figure and the CPU time the bench used per wall second (about 1 when it stays off the held core and
# no thread spins; near 2 would mean a thread spinning on a descheduled peer). Only meaningful when the machine
# is otherwise quiet: the load average is recorded before and after every run. Needs /usr/bin/time.
# Usage: tools/peer/contention.sh [WORKLOADS, default lora,prefill,lens,decode] [OUTPUT.json]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
binary="${LAZARUS_BINARY:-$root/.build/release/lazarus}"
only="${1:-lora,prefill,lens,decode}"
output="${2:-}"
last_core="$(($(nproc) - 1))"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

load() { cut -d' ' -f1-3 /proc/loadavg; }

# run NAME: the bench's JSON in $scratch/NAME.json, its wall and CPU seconds in $scratch/NAME.time,
# the load average before and after in $scratch/NAME.load.
run() {
    load > "$scratch/$1.load"
    /usr/bin/time -f "%e %U %S" -o "$scratch/$1.time" "$binary" bench --only "$only" --json > "$scratch/$1.json"
    load >> "$scratch/$1.load"
    echo "$1: load average $(head -1 "$scratch/$1.load") -> $(tail -1 "$scratch/$1.load")" >&2
}

run quiet
taskset -c "$last_core" nice -n 0 yes > /dev/null &
hog=$!
trap 'kill "$hog" 2>/dev/null || true; rm -rf "$scratch"' EXIT
sleep 2 # one sampling window of the free-core count, so the run starts with the core already taken
run held
kill "$hog"; wait "$hog" 2>/dev/null || true
trap 'rm -rf "$scratch"' EXIT

python3 - "$scratch" "$output" <<'PY'
import datetime, json, sys
scratch, output = sys.argv[1], sys.argv[2]
def read(name):
    with open(f"{scratch}/{name}.json") as f: figures = json.load(f)
    wall, user, system = (float(x) for x in open(f"{scratch}/{name}.time").read().split()[:3])
    before, after = (line.split() for line in open(f"{scratch}/{name}.load").read().splitlines())
    return {"figures": figures, "wall_s": wall, "cpu_s": user + system, "cpu_per_wall": (user + system) / wall,
            "load_average_before": [float(x) for x in before], "load_average_after": [float(x) for x in after]}
quiet, held = read("quiet"), read("held")
rows = []
for key, better in [("sgemm_gflops_1024", "higher"), ("sgemm_gflops_2048", "higher"), ("lora_step_s", "lower"),
                    ("prefill_tokens_per_s", "higher"), ("lens_sweep_s", "lower"), ("decode_tokens_per_s", "higher"),
                    ("decode_single_tokens_per_s", "higher"), ("native_prefill_tokens_per_s", "higher"),
                    ("native_decode_single_tokens_per_s", "higher")]:
    a, b = quiet["figures"].get(key, 0), held["figures"].get(key, 0)
    if a and b:
        kept = b / a if better == "higher" else a / b
        rows.append({"figure": key, "quiet": a, "one_core_held": b, "kept": kept, "target_met": kept >= 0.4})
        print(f"{key}: quiet {a:.4g}, one core held {b:.4g}: {100 * kept:.0f}% of quiet throughput", file=sys.stderr)
for name, r in [("quiet", quiet), ("held", held)]:
    print(f"{name}: {r['cpu_per_wall']:.2f} CPU seconds per wall second, bench threads {r['figures'].get('threads')}",
          file=sys.stderr)
result = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%MZ"),
          "hog": "taskset -c LAST nice -n 0 yes > /dev/null", "quiet": quiet, "one_core_held": held, "ratios": rows}
text = json.dumps(result, indent=2)
print(text)
if output:
    with open(output, "w") as f: f.write(text + "\n")
PY
